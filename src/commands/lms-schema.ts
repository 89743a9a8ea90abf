import type pg from 'pg';

/**
 * A small LMS schema for the demo, tests and benchmarks: ten tables with foreign keys,
 * indexes and deterministic rows (setseed). `scale` multiplies the row counts; scale 1 is
 * about 13,000 rows and 4 MB.
 */
export const LMS_SCHEMA = `
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  full_name text NOT NULL,
  role text NOT NULL CHECK (role IN ('student', 'instructor', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE courses (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE,
  title text NOT NULL,
  description text,
  starts_on date NOT NULL
);
CREATE TABLE course_instructors (
  course_id bigint NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users(id),
  PRIMARY KEY (course_id, user_id)
);
CREATE TABLE enrollments (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users(id),
  enrolled_at timestamptz NOT NULL DEFAULT now(),
  status text NOT NULL DEFAULT 'active',
  UNIQUE (course_id, user_id)
);
CREATE INDEX enrollments_user_idx ON enrollments (user_id);
CREATE TABLE lessons (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  position int NOT NULL,
  title text NOT NULL,
  body text NOT NULL
);
CREATE INDEX lessons_course_idx ON lessons (course_id, position);
CREATE TABLE assignments (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  title text NOT NULL,
  due_at timestamptz NOT NULL,
  max_points int NOT NULL DEFAULT 100
);
CREATE INDEX assignments_course_idx ON assignments (course_id);
CREATE TABLE submissions (
  id bigserial PRIMARY KEY,
  assignment_id bigint NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
  user_id bigint NOT NULL REFERENCES users(id),
  submitted_at timestamptz NOT NULL,
  content text NOT NULL
);
CREATE INDEX submissions_assignment_idx ON submissions (assignment_id);
CREATE INDEX submissions_user_idx ON submissions (user_id);
CREATE TABLE grades (
  id bigserial PRIMARY KEY,
  submission_id bigint NOT NULL UNIQUE REFERENCES submissions(id) ON DELETE CASCADE,
  grader_id bigint NOT NULL REFERENCES users(id),
  points numeric(5,1) NOT NULL,
  feedback text,
  graded_at timestamptz NOT NULL
);
CREATE TABLE forum_posts (
  id bigserial PRIMARY KEY,
  course_id bigint NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
  author_id bigint NOT NULL REFERENCES users(id),
  parent_id bigint REFERENCES forum_posts(id),
  body text NOT NULL,
  posted_at timestamptz NOT NULL
);
CREATE INDEX forum_posts_course_idx ON forum_posts (course_id);
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  user_id bigint REFERENCES users(id),
  action text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  at timestamptz NOT NULL DEFAULT now()
);
`;

export function lmsSeedSql(scale = 1): string {
  const n = (base: number) => Math.max(1, Math.round(base * scale));
  const users = Math.max(10, n(500));
  const courses = Math.max(5, Math.round(20 * Math.sqrt(scale)));
  const text = (words: number) =>
    `(SELECT string_agg(w, ' ') FROM (SELECT (ARRAY['lesson','student','grade','course','essay','quiz','module','reading','discussion','project','review','answer'])[1 + floor(random() * 12)::int] AS w FROM generate_series(1, ${words})) s)`;
  return `
SELECT setseed(0.42);
INSERT INTO users (email, full_name, role, created_at)
SELECT 'user' || g || '@lms.example', 'User ' || g,
       CASE WHEN g % 50 = 0 THEN 'admin' WHEN g % 10 = 0 THEN 'instructor' ELSE 'student' END,
       timestamptz '2024-01-01' + (g || ' minutes')::interval
FROM generate_series(1, ${users}) g;
INSERT INTO courses (code, title, description, starts_on)
SELECT 'C' || lpad(g::text, 4, '0'), 'Course ' || g, 'About course ' || g, date '2024-02-01' + g
FROM generate_series(1, ${courses}) g;
INSERT INTO course_instructors (course_id, user_id)
SELECT c.id, 10 * (1 + c.id % ${Math.floor(users / 10)}) FROM courses c;
INSERT INTO enrollments (course_id, user_id, enrolled_at)
SELECT DISTINCT ON (c, u) c, u, timestamptz '2024-02-01' + (u || ' minutes')::interval
FROM (SELECT 1 + floor(random() * ${courses})::int AS c, 1 + floor(random() * ${users})::int AS u
      FROM generate_series(1, ${n(2000)})) x
ON CONFLICT DO NOTHING;
INSERT INTO lessons (course_id, position, title, body)
SELECT c.id, p, 'Lesson ' || p, ${text(40)}
FROM courses c, generate_series(1, 10) p;
INSERT INTO assignments (course_id, title, due_at, max_points)
SELECT c.id, 'Assignment ' || p, timestamptz '2024-03-01' + (p || ' days')::interval, 100
FROM courses c, generate_series(1, 5) p;
INSERT INTO submissions (assignment_id, user_id, submitted_at, content)
SELECT 1 + floor(random() * (SELECT count(*) FROM assignments))::int, 1 + floor(random() * ${users})::int,
       timestamptz '2024-03-01' + (g || ' seconds')::interval,
       (SELECT string_agg(md5(g::text || '-' || k || random()::text), ' ') FROM generate_series(1, 4 + g % 12) k)
FROM generate_series(1, ${n(3000)}) g;
INSERT INTO grades (submission_id, grader_id, points, feedback, graded_at)
SELECT s.id, 10, round((random() * 100)::numeric, 1), 'Feedback for ' || s.id, s.submitted_at + interval '2 days'
FROM submissions s WHERE s.id % 10 <> 0;
INSERT INTO forum_posts (course_id, author_id, body, posted_at)
SELECT 1 + floor(random() * ${courses})::int, 1 + floor(random() * ${users})::int,
       'Post ' || g || ': ' || repeat('question about the reading ', 1 + g % 8),
       timestamptz '2024-02-10' + (g || ' minutes')::interval
FROM generate_series(1, ${n(1000)}) g;
UPDATE forum_posts SET parent_id = id - 1 WHERE id % 3 = 0;
INSERT INTO audit_log (user_id, action, details, at)
SELECT 1 + floor(random() * ${users})::int, (ARRAY['login','view','submit','grade'])[1 + g % 4],
       jsonb_build_object('ip', '10.0.' || (g % 255) || '.' || (g % 7), 'n', g),
       timestamptz '2024-02-01' + (g || ' seconds')::interval
FROM generate_series(1, ${n(4000)}) g;
ANALYZE;
`;
}

export async function seedLms(client: pg.Client, scale = 1): Promise<void> {
  await client.query(LMS_SCHEMA);
  await client.query(lmsSeedSql(scale));
}
