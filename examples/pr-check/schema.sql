-- An example "migration" for the PR check: a small LMS schema with a few rows. In your
-- repository the seed command runs your real migrations and seed data instead.
CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('student', 'instructor', 'admin'))
);
CREATE TABLE courses (id bigserial PRIMARY KEY, code text NOT NULL UNIQUE, title text NOT NULL);
CREATE TABLE enrollments (
  course_id bigint NOT NULL REFERENCES courses(id),
  user_id bigint NOT NULL REFERENCES users(id),
  PRIMARY KEY (course_id, user_id)
);
CREATE TABLE lessons (id bigserial PRIMARY KEY, course_id bigint NOT NULL REFERENCES courses(id), title text NOT NULL);
CREATE TABLE assignments (id bigserial PRIMARY KEY, course_id bigint NOT NULL REFERENCES courses(id), due_at timestamptz NOT NULL);
CREATE TABLE submissions (
  id bigserial PRIMARY KEY,
  assignment_id bigint NOT NULL REFERENCES assignments(id),
  user_id bigint NOT NULL REFERENCES users(id),
  content text NOT NULL
);
CREATE TABLE grades (id bigserial PRIMARY KEY, submission_id bigint NOT NULL UNIQUE REFERENCES submissions(id), points numeric(5,1) NOT NULL);
CREATE TABLE audit_log (id bigserial PRIMARY KEY, action text NOT NULL, details jsonb NOT NULL DEFAULT '{}');

INSERT INTO users (email, role)
SELECT 'user' || g || '@lms.example', CASE WHEN g % 50 = 0 THEN 'admin' WHEN g % 10 = 0 THEN 'instructor' ELSE 'student' END
FROM generate_series(1, 200) g;
INSERT INTO courses (code, title) SELECT 'C' || g, 'Course ' || g FROM generate_series(1, 10) g;
INSERT INTO enrollments SELECT 1 + g % 10, g FROM generate_series(1, 200) g;
INSERT INTO lessons (course_id, title) SELECT 1 + g % 10, 'Lesson ' || g FROM generate_series(1, 100) g;
INSERT INTO assignments (course_id, due_at) SELECT 1 + g % 10, now() + g * interval '1 day' FROM generate_series(1, 30) g;
INSERT INTO submissions (assignment_id, user_id, content) SELECT 1 + g % 30, 1 + g % 200, 'Essay ' || g FROM generate_series(1, 500) g;
INSERT INTO grades (submission_id, points) SELECT id, (id % 100)::numeric FROM submissions WHERE id % 5 <> 0;
INSERT INTO audit_log (action, details) SELECT 'login', jsonb_build_object('n', g) FROM generate_series(1, 300) g;
