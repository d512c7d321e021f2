-- A role and a database for Budbringer, run once by a superuser:
--   psql -v ON_ERROR_STOP=1 -v password="'…'" -f setup.sql
-- The gateway creates and upgrades its own tables at start-up (forward-only migrations), so
-- its role owns the database's schema but is no superuser and cannot create roles or
-- databases. scripts/lint-deploy runs this file on a throw-away PostgreSQL and then the
-- gateway's migration files, with psql, as the new role.

CREATE ROLE budbringer LOGIN PASSWORD :password
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    CONNECTION LIMIT 64;            -- 16 per instance, four instances
CREATE DATABASE budbringer OWNER budbringer ENCODING 'UTF8' TEMPLATE template0;
\connect budbringer
-- only the gateway's role may connect and create objects
REVOKE ALL ON DATABASE budbringer FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO budbringer;
-- a read-only role for backups (pg_dump) and reporting
CREATE ROLE budbringer_readonly NOLOGIN;
GRANT CONNECT ON DATABASE budbringer TO budbringer_readonly;
GRANT USAGE ON SCHEMA public TO budbringer_readonly;
ALTER DEFAULT PRIVILEGES FOR ROLE budbringer IN SCHEMA public GRANT SELECT ON TABLES TO budbringer_readonly;
