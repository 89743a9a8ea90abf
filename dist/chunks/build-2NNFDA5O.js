import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  require_build
} from "./chunk-KLP2F66T.js";
import "./chunk-W4ZYWWO7.js";
import "./chunk-TMXHC7WI.js";
import "./chunk-7OCOBXK4.js";
import "./chunk-GOCCL7ZG.js";
import "./chunk-MSJG6OIC.js";
import {
  __commonJS
} from "./chunk-ZTERMN2E.js";

// node_modules/@testcontainers/postgresql/build/postgresql-container.js
var require_postgresql_container = __commonJS({
  "node_modules/@testcontainers/postgresql/build/postgresql-container.js"(exports) {
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.StartedPostgreSqlContainer = exports.PostgreSqlContainer = void 0;
    var testcontainers_1 = require_build();
    var POSTGRES_PORT = 5432;
    var POSTGRES_SSL_PATH = "/tmp/testcontainers-node/postgres";
    var POSTGRES_SSL_CA_CERT_PATH = `${POSTGRES_SSL_PATH}/ca_cert.pem`;
    var POSTGRES_SSL_CERT_PATH = `${POSTGRES_SSL_PATH}/server.crt`;
    var POSTGRES_SSL_KEY_PATH = `${POSTGRES_SSL_PATH}/server.key`;
    var POSTGRES_SSL_ENTRYPOINT_PATH = "/usr/local/bin/docker-entrypoint-ssl.sh";
    var POSTGRES_SSL_ENTRYPOINT_CONTENT = `#!/bin/sh
set -eu

puid="$(id -u postgres)"
pgid="$(id -g postgres)"

if [ -z "$puid" ] || [ -z "$pgid" ]; then
  echo "Unable to determine postgres uid/gid for SSL key material ownership"
  exit 1
fi

for file in "${POSTGRES_SSL_CA_CERT_PATH}" "${POSTGRES_SSL_CERT_PATH}" "${POSTGRES_SSL_KEY_PATH}"; do
  if [ -f "$file" ]; then
    chown "$puid:$pgid" "$file"
    chmod 600 "$file"
  fi
done

exec /usr/local/bin/docker-entrypoint.sh "$@"
`;
    var PostgreSqlContainer = class extends testcontainers_1.GenericContainer {
      database = "test";
      username = "test";
      password = "test";
      sslConfig;
      constructor(image) {
        super(image);
        this.withExposedPorts(POSTGRES_PORT);
        this.withWaitStrategy(testcontainers_1.Wait.forAll([testcontainers_1.Wait.forHealthCheck(), testcontainers_1.Wait.forListeningPorts()]));
        this.withStartupTimeout(12e4);
      }
      withDatabase(database) {
        this.database = database;
        return this;
      }
      withUsername(username) {
        this.username = username;
        return this;
      }
      withPassword(password) {
        this.password = password;
        return this;
      }
      withSSL(certFile, keyFile, caCertFile) {
        if (!certFile)
          throw new Error("SSL certificate file should not be empty.");
        if (!keyFile)
          throw new Error("SSL key file should not be empty.");
        if (caCertFile !== void 0 && !caCertFile)
          throw new Error("SSL CA certificate file should not be empty.");
        const filesToCopy = [
          { source: certFile, target: POSTGRES_SSL_CERT_PATH, mode: 384 },
          { source: keyFile, target: POSTGRES_SSL_KEY_PATH, mode: 384 }
        ];
        if (caCertFile) {
          filesToCopy.push({ source: caCertFile, target: POSTGRES_SSL_CA_CERT_PATH, mode: 384 });
        }
        this.sslConfig = {
          caCertPath: caCertFile ? POSTGRES_SSL_CA_CERT_PATH : void 0
        };
        this.withCopyFilesToContainer(filesToCopy).withCopyContentToContainer([
          {
            content: POSTGRES_SSL_ENTRYPOINT_CONTENT,
            target: POSTGRES_SSL_ENTRYPOINT_PATH,
            mode: 448
          }
        ]).withEntrypoint(["sh", POSTGRES_SSL_ENTRYPOINT_PATH]);
        return this;
      }
      withSSLCert(caCertFile, certFile, keyFile) {
        if (!caCertFile)
          throw new Error("SSL CA certificate file should not be empty.");
        return this.withSSL(certFile, keyFile, caCertFile);
      }
      async start() {
        this.withEnvironment({
          POSTGRES_DB: this.database,
          POSTGRES_USER: this.username,
          POSTGRES_PASSWORD: this.password
        });
        if (this.sslConfig) {
          const command = this.createOpts.Cmd;
          if (!command || command[0] === "postgres") {
            this.withCommand([
              ...command ?? ["postgres"],
              "-c",
              "ssl=on",
              "-c",
              `ssl_cert_file=${POSTGRES_SSL_CERT_PATH}`,
              "-c",
              `ssl_key_file=${POSTGRES_SSL_KEY_PATH}`,
              ...this.sslConfig.caCertPath ? ["-c", `ssl_ca_file=${this.sslConfig.caCertPath}`] : []
            ]);
          }
        }
        if (!this.healthCheck) {
          this.withHealthCheck({
            test: [
              "CMD-SHELL",
              `PGPASSWORD=${this.password} pg_isready --host localhost --username ${this.username} --dbname ${this.database}`
            ],
            interval: 250,
            timeout: 1e3,
            retries: 1e3
          });
        }
        return new StartedPostgreSqlContainer(await super.start(), this.database, this.username, this.password);
      }
    };
    exports.PostgreSqlContainer = PostgreSqlContainer;
    var StartedPostgreSqlContainer = class extends testcontainers_1.AbstractStartedContainer {
      database;
      username;
      password;
      snapshotName = "migrated_template";
      constructor(startedTestContainer, database, username, password) {
        super(startedTestContainer);
        this.database = database;
        this.username = username;
        this.password = password;
      }
      getPort() {
        return super.getMappedPort(POSTGRES_PORT);
      }
      getDatabase() {
        return this.database;
      }
      getUsername() {
        return this.username;
      }
      getPassword() {
        return this.password;
      }
      /**
       * @returns A connection URI in the form of `postgres[ql]://[username[:password]@][host[:port],]/database`
       */
      getConnectionUri() {
        const url = new URL("", "postgres://");
        url.hostname = this.getHost();
        url.port = this.getPort().toString();
        url.pathname = this.getDatabase();
        url.username = this.getUsername();
        url.password = this.getPassword();
        return url.toString();
      }
      /**
       * Sets the name to be used for database snapshots.
       * This name will be used as the default for snapshot() and restore() methods.
       *
       * @param snapshotName The name to use for snapshots (default is "migrated_template" if this method is not called)
       * @returns this (for method chaining)
       */
      withSnapshotName(snapshotName) {
        this.snapshotName = snapshotName;
        return this;
      }
      /**
       * Takes a snapshot of the current state of the database as a template, which can then be restored using
       * the restore method.
       *
       * @param snapshotName Name for the snapshot, defaults to the value set by withSnapshotName() or "migrated_template" if not specified
       * @returns Promise resolving when snapshot is complete
       * @throws Error if attempting to snapshot the postgres system database or if using the same name as the database
       */
      async snapshot(snapshotName = this.snapshotName) {
        this.snapshotSanityCheck(snapshotName);
        await this.execCommandsSQL([
          // Update pg_database to remove the template flag, then drop the database if it exists.
          // This is needed because dropping a template database will fail.
          `UPDATE pg_database SET datistemplate = FALSE WHERE datname = '${snapshotName}'`,
          `DROP DATABASE IF EXISTS "${snapshotName}"`,
          // Create a copy of the database to another database to use as a template now that it was fully migrated
          `CREATE DATABASE "${snapshotName}" WITH TEMPLATE "${this.getDatabase()}" OWNER "${this.getUsername()}"`,
          // Snapshot the template database so we can restore it onto our original database going forward
          `ALTER DATABASE "${snapshotName}" WITH is_template = TRUE`
        ]);
      }
      /**
       * Restores the database to a specific snapshot.
       *
       * @param snapshotName Name of the snapshot to restore from, defaults to the value set by withSnapshotName() or "migrated_template" if not specified
       * @returns Promise resolving when restore is complete
       * @throws Error if attempting to restore the postgres system database or if using the same name as the database
       */
      async restoreSnapshot(snapshotName = this.snapshotName) {
        this.snapshotSanityCheck(snapshotName);
        await this.execCommandsSQL([
          // Drop the entire database by connecting to the postgres global database
          `DROP DATABASE "${this.getDatabase()}" WITH (FORCE)`,
          // Then restore the previous snapshot
          `CREATE DATABASE "${this.getDatabase()}" WITH TEMPLATE "${snapshotName}" OWNER "${this.getUsername()}"`
        ]);
      }
      /**
       * Executes a series of SQL commands against the Postgres database
       *
       * @param commands Array of SQL commands to execute in sequence
       * @throws Error if any command fails to execute with details of the failure
       */
      async execCommandsSQL(commands) {
        for (const command of commands) {
          try {
            const result = await this.exec([
              "psql",
              "-v",
              "ON_ERROR_STOP=1",
              "-U",
              this.getUsername(),
              "-d",
              "postgres",
              "-c",
              command
            ]);
            if (result.exitCode !== 0) {
              throw new Error(`Command failed with exit code ${result.exitCode}: ${result.output}`);
            }
          } catch (error) {
            console.error(`Failed to execute command: ${command}`, error);
            throw error;
          }
        }
      }
      /**
       * Checks if the snapshot name is valid and if the database is not the postgres system database
       * @param snapshotName The name of the snapshot to check
       */
      snapshotSanityCheck(snapshotName) {
        if (this.getDatabase() === "postgres") {
          throw new Error("Snapshot feature is not supported when using the postgres system database");
        }
        if (this.getDatabase() === snapshotName) {
          throw new Error("Snapshot name cannot be the same as the database name");
        }
      }
    };
    exports.StartedPostgreSqlContainer = StartedPostgreSqlContainer;
  }
});

// node_modules/@testcontainers/postgresql/build/index.js
var require_build2 = __commonJS({
  "node_modules/@testcontainers/postgresql/build/index.js"(exports) {
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.StartedPostgreSqlContainer = exports.PostgreSqlContainer = void 0;
    var postgresql_container_1 = require_postgresql_container();
    Object.defineProperty(exports, "PostgreSqlContainer", { enumerable: true, get: function() {
      return postgresql_container_1.PostgreSqlContainer;
    } });
    Object.defineProperty(exports, "StartedPostgreSqlContainer", { enumerable: true, get: function() {
      return postgresql_container_1.StartedPostgreSqlContainer;
    } });
  }
});
export default require_build2();
