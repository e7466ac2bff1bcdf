# The examples (examples/*): a separate Swift package per app, built against this repository
# with its own scratch folder, plus C and script examples.
#
#   make test-examples   what `make test` runs: examples/hello and examples/guestbook built and
#                        tested (about 2¼ min each from scratch on 2 cores), the libfcgi
#                        example compiled (ExecPoolTests compiles it on its own too)
#   make test-hello      examples/hello: build + Swift Testing tests against its binary
#   make test-guestbook  examples/guestbook (GRDB + the system SQLite, libsqlite3-dev, which
#                        deps-examples installs)
#   make test-readme-recipe  the README's new-app recipe (Package.swift, main.swift, test,
#                        pool file, nginx block) copied verbatim into a temp package and built
#   make examples        build every example

CC ?= cc
HELLO_DIR = examples/hello
GUESTBOOK_DIR = examples/guestbook

TEST_EXTRA += test-examples

.PHONY: test-readme-recipe examples test-examples build-hello test-hello build-guestbook test-guestbook examples-libfcgi deps-examples

examples: build-hello build-guestbook examples-libfcgi

test-examples: test-hello test-guestbook examples-libfcgi test-readme-recipe

test-readme-recipe:
	SWIFT="$(SWIFT)" scripts/test-readme-recipe.sh

build-hello:
	$(SWIFT) build --build-tests --package-path $(HELLO_DIR) --scratch-path $(HELLO_DIR)/.build

test-hello: build-hello
	$(SWIFT) test --skip-build --package-path $(HELLO_DIR) --scratch-path $(HELLO_DIR)/.build

## deps-examples: Debian packages only the examples need (guestbook: the system SQLite for GRDB).
deps-examples:
	@if [ ! -f /usr/include/sqlite3.h ]; then \
		echo "installing: libsqlite3-dev"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends libsqlite3-dev >/dev/null; \
	fi

build-guestbook: deps-examples
	$(SWIFT) build --build-tests --package-path $(GUESTBOOK_DIR) --scratch-path $(GUESTBOOK_DIR)/.build

test-guestbook: build-guestbook
	$(SWIFT) test --skip-build --package-path $(GUESTBOOK_DIR) --scratch-path $(GUESTBOOK_DIR)/.build

examples-libfcgi: examples/libfcgi/hello-fcgi

examples/libfcgi/hello-fcgi: examples/libfcgi/hello-fcgi.c
	$(CC) -O2 -Wall -o $@ $< -lfcgi
