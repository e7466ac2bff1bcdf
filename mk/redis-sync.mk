# examples/redis-sync (issue #21): the MySQL → Gearman → Redis sync on a job pool, tested end to
# end against real servers that the test starts itself (MariaDB with the project's Gearman UDF,
# gearmand, redis-server) with the Swift handler and with the classic PHP worker.
#
#   make test-redis-sync   deps, the UDF, then the example built with its own scratch folder
#                          and its tests run (part of `make test`; from scratch about 1¾ min
#                          on 2 shared cores: 1½ min of build, 15 s of tests)
#   make deps-redis-sync   the Debian packages only this example needs

REDIS_SYNC_DIR = examples/redis-sync

TEST_EXTRA += test-redis-sync

.PHONY: deps-redis-sync build-redis-sync test-redis-sync

deps-redis-sync:
	@missing=""; \
	[ -x /usr/sbin/mariadbd ] || missing="$$missing mariadb-server"; \
	[ -x /usr/bin/redis-server ] || missing="$$missing redis-server"; \
	[ -x /usr/sbin/gearmand ] || missing="$$missing gearman-job-server"; \
	[ -f /usr/include/libgearman-1.0/gearman.h ] || missing="$$missing libgearman-dev"; \
	[ -f /usr/include/mariadb/mysql.h ] || missing="$$missing libmariadb-dev"; \
	[ -x /usr/bin/php8.2 ] || missing="$$missing php8.2-cli"; \
	php8.2 -m 2>/dev/null | grep -qx gearman || missing="$$missing php8.2-gearman"; \
	php8.2 -m 2>/dev/null | grep -qx redis || missing="$$missing php8.2-redis"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build-redis-sync: deps-redis-sync gearman-udf
	$(SWIFT) build --build-tests --package-path $(REDIS_SYNC_DIR) --scratch-path $(REDIS_SYNC_DIR)/.build

test-redis-sync: build-redis-sync
	$(SWIFT) test --skip-build --package-path $(REDIS_SYNC_DIR) --scratch-path $(REDIS_SYNC_DIR)/.build

# `make bench-jobs` (not part of `make test`): jobs/s and CPU per job of the Swift job pool,
# the PHP worker under swift-fpm and the same PHP worker run bare, fed by one gearmand and
# writing to one Redis (bench/jobs.sh, bench/jobs.py; docs/BENCHMARKS.md).
.PHONY: bench-jobs
bench-jobs: deps-redis-sync
	SWIFT="$(SWIFT)" bench/jobs.sh
