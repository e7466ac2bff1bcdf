# The examples (examples/*): a separate Swift package per app, built against this repository
# with its own scratch folder, plus C and script examples.
#
#   make test-examples   what `make test` runs: examples/hello and examples/guestbook built and
#                        tested (about 2¼ min each from scratch on 2 cores), the libfcgi
#                        example compiled (ExecPoolTests compiles it on its own too)
#   make test-hello      examples/hello: build + Swift Testing tests against its binary
#   make test-guestbook  examples/guestbook (GRDB + the system SQLite, libsqlite3-dev, which
#                        deps-examples installs)
#   make test-todo-postgres  examples/todo-postgres (async routes on PostgresNIO against a real
#                        PostgreSQL, Debian's postgresql, which deps-examples installs, behind
#                        nginx); its first build, postgres-nio and swift-nio included, is the
#                        slowest of the examples
#   make test-readme-recipe  the README's new-app recipe (Package.swift, main.swift, test,
#                        pool file, nginx block) copied verbatim into a temp package and built
#   make examples        build every example

CC ?= cc
HELLO_DIR = examples/hello
GUESTBOOK_DIR = examples/guestbook
TODO_PG_DIR = examples/todo-postgres

TEST_EXTRA += test-examples

.PHONY: test-readme-recipe examples test-examples build-hello test-hello build-guestbook test-guestbook build-todo-postgres test-todo-postgres examples-libfcgi deps-examples

examples: build-hello build-guestbook build-todo-postgres examples-libfcgi

test-examples: test-hello test-guestbook test-todo-postgres examples-libfcgi test-readme-recipe

test-readme-recipe:
	SWIFT="$(SWIFT)" scripts/test-readme-recipe.sh

build-hello:
	$(SWIFT) build --build-tests --package-path $(HELLO_DIR) --scratch-path $(HELLO_DIR)/.build

test-hello: build-hello
	$(SWIFT) test --skip-build --package-path $(HELLO_DIR) --scratch-path $(HELLO_DIR)/.build

## deps-examples: Debian packages only the examples need (guestbook: the system SQLite for GRDB;
## todo-postgres: PostgreSQL 15's server, whose initdb/postgres its test runs, and curl).
deps-examples:
	@missing=""; \
	[ -f /usr/include/sqlite3.h ] || missing="$$missing libsqlite3-dev"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

build-guestbook: deps-examples
	$(SWIFT) build --build-tests --package-path $(GUESTBOOK_DIR) --scratch-path $(GUESTBOOK_DIR)/.build

test-guestbook: build-guestbook
	$(SWIFT) test --skip-build --package-path $(GUESTBOOK_DIR) --scratch-path $(GUESTBOOK_DIR)/.build

build-todo-postgres: deps-examples
	$(SWIFT) build --build-tests --package-path $(TODO_PG_DIR) --scratch-path $(TODO_PG_DIR)/.build

test-todo-postgres: build-todo-postgres
	$(SWIFT) test --skip-build --package-path $(TODO_PG_DIR) --scratch-path $(TODO_PG_DIR)/.build

examples-libfcgi: examples/libfcgi/hello-fcgi

examples/libfcgi/hello-fcgi: examples/libfcgi/hello-fcgi.c
	$(CC) -O2 -Wall -o $@ $< -lfcgi
