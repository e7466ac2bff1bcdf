# swift-fpm — the two commands are `swift run fpm` and `make test`.

SWIFT ?= swift
.DEFAULT_GOAL := all

-include mk/*.mk
# Packages the test suite uses: nginx in front, libfcgi as the reference implementation,
# php-fpm's shipped config (read by the config tests), php-cgi for the exec-pool example,
# Apache httpd (mod_proxy_fcgi), lighttpd (mod_fastcgi), HAProxy (fcgi-app) and Caddy
# (transport fastcgi) as the other front ends;
# prometheus (promtool, and a server that scrapes the status page), mandoc (lints the man
# pages) and logrotate (checks the shipped snippet): about 11 s of apt-get together;
# gearmand and libgearman-dev (the Gearman tests' job server and oracle), libmariadb-dev (the
# Gearman UDF's headers; mk/gearman.mk); php8.2-cli and php8.2-gearman (the exec job pool's PHP worker).
TEST_PACKAGES = nginx libfcgi-dev libfcgi-bin php8.2-fpm php8.2-cgi apache2 lighttpd haproxy caddy prometheus mandoc logrotate gearman-job-server libgearman-dev libmariadb-dev php8.2-cli php8.2-gearman
# PyPI packages the tests use: prometheus_client's parsers read the OpenMetrics status page.
TEST_PYPI_PACKAGES = prometheus_client
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all build test deps unit integration fuzz bench clean

all: build

build:
	$(SWIFT) build
	@$(MAKE) --no-print-directory exec-counter

## deps: install what the tests need when it is missing (Debian packages, then PyPI ones).
deps:
	@missing=""; \
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -f /usr/include/fcgiapp.h ] || missing="$$missing libfcgi-dev"; \
	command -v cgi-fcgi >/dev/null 2>&1 || missing="$$missing libfcgi-bin"; \
	[ -f /etc/php/8.2/fpm/pool.d/www.conf ] || missing="$$missing php8.2-fpm"; \
	command -v php-cgi8.2 >/dev/null 2>&1 || missing="$$missing php8.2-cgi"; \
	[ -x /usr/sbin/apache2 ] && [ -f /usr/lib/apache2/modules/mod_proxy_fcgi.so ] || missing="$$missing apache2"; \
	[ -x /usr/sbin/lighttpd ] || missing="$$missing lighttpd"; \
	[ -x /usr/sbin/haproxy ] || missing="$$missing haproxy"; \
	[ -x /usr/bin/caddy ] || missing="$$missing caddy"; \
	[ -x /usr/bin/promtool ] && [ -x /usr/bin/prometheus ] || missing="$$missing prometheus"; \
	command -v mandoc >/dev/null 2>&1 || missing="$$missing mandoc"; \
	[ -x /usr/sbin/logrotate ] || missing="$$missing logrotate"; \
	[ -x /usr/sbin/gearmand ] || missing="$$missing gearman-job-server"; \
	[ -f /usr/include/libgearman-1.0/gearman.h ] || missing="$$missing libgearman-dev"; \
	[ -f /usr/include/mariadb/mysql.h ] || missing="$$missing libmariadb-dev"; \
	command -v php8.2 >/dev/null 2>&1 || missing="$$missing php8.2-cli"; \
	[ -f /etc/php/8.2/mods-available/gearman.ini ] || missing="$$missing php8.2-gearman"; \
	[ -x /usr/bin/caddy ] || missing="$$missing caddy"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 || { \
		echo "installing: python3 python3-pip"; $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3 python3-pip >/dev/null; }
	@python3 -c "import prometheus_client" 2>/dev/null || { echo "installing (pip): $(TEST_PYPI_PACKAGES)"; \
		python3 -m pip install -q $(TEST_PYPI_PACKAGES) 2>/dev/null || \
		python3 -m pip install -q --break-system-packages $(TEST_PYPI_PACKAGES); }

## test: install what is missing, then run every test (unit, differential, integration).
# mk/*.mk files add their own suites (examples, …) to TEST_EXTRA.
TEST_EXTRA ?=
test: deps
	$(SWIFT) build --build-tests
	@$(MAKE) --no-print-directory exec-counter
	$(SWIFT) test --skip-build
	@if [ -n "$(strip $(TEST_EXTRA))" ]; then $(MAKE) --no-print-directory $(TEST_EXTRA); fi
	@# The optimizing whole-module build resolves imports differently: test-deploy (mk/deploy.mk)
	@# builds an app and fpmctl in release, every library module with them; fpm's own main.swift
	@# is checked here in release only when test-deploy is not part of the run.
	@case " $(TEST_EXTRA) " in *" test-deploy "*) ;; *) $(SWIFT) build -c release --product fpm --scratch-path .build-release ;; esac

fuzz: fuzz-fastcgi fuzz-config fuzz-gearman

# bench/run.sh builds its own release binaries; then the router's lookups (mk/bench.mk).
bench:
	bench/run.sh
	$(MAKE) --no-print-directory bench-router
	$(MAKE) --no-print-directory bench-warm

clean:
	rm -rf .build fuzz/bin

