-- The MySQL → Gearman → Redis sync, database side (examples/redis-sync; issue #21).
-- Run in an empty database of a MariaDB whose plugin dir holds gearman_udf.so
-- (`make gearman-udf` builds it to .build/gearman-udf/gearman_udf.so):
--
--   mariadb mydb < examples/redis-sync/schema.sql
--   mariadb -e "SELECT gman_servers_set('127.0.0.1:4730')"   -- once per server start
--
-- From then on every UPDATE of `data` queues a background job `syncToRedis` whose payload is
-- the row as JSON, {"id": …, "volume": …, "version": …}; the job pool (redis-sync or
-- php/redis_worker.php) writes it to Redis under the key `id`.

CREATE TABLE data (
    id INT NOT NULL PRIMARY KEY,
    volume INT NOT NULL DEFAULT 0,
    -- How many times the row was updated. Redis keeps the value with the highest version, so
    -- two updates applied by two workers out of order, or a job run again after a crash,
    -- never leave it older than this table.
    version BIGINT UNSIGNED NOT NULL DEFAULT 0
) ENGINE=InnoDB;

-- The UDF library's functions (udf/gearman_udf.c). The classic recipe's JSON UDF is not
-- needed: MariaDB has JSON_OBJECT built in.
CREATE FUNCTION gman_do_background RETURNS STRING SONAME 'gearman_udf.so';
CREATE FUNCTION gman_servers_set RETURNS STRING SONAME 'gearman_udf.so';

DELIMITER $$

-- The version is bumped here, by the database, and not by the application's UPDATE: the
-- classic recipe's point is that the application's SQL stays as it is. A BEFORE trigger may
-- set NEW.version; it runs under the row's lock, so the versions of one row follow the order
-- in which its updates commit.
CREATE TRIGGER databumpversion BEFORE UPDATE ON data
FOR EACH ROW BEGIN
    SET NEW.version = OLD.version + 1;
END$$

-- The classic trigger, verbatim but for MariaDB's JSON_OBJECT (key/value pairs) and the version.
CREATE TRIGGER datatoredis AFTER UPDATE ON data
FOR EACH ROW BEGIN
    SET @ret = gman_do_background('syncToRedis',
                                  JSON_OBJECT('id', NEW.id, 'volume', NEW.volume, 'version', NEW.version));
END$$

DELIMITER ;
