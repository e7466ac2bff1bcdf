# libFPMExecCounter.so, preloaded into exec pools' programs to count their requests
# (preload/exec_counter.c; Sources/FPMServer/Master/ExecCounter.swift says why). Built with the
# C compiler rather than SwiftPM: a SwiftPM dynamic library is linked by the Swift driver, which
# brings the Swift runtime into php-cgi unless given unsafe flags, and a package with unsafe
# flags cannot be depended on by URL. fpm looks for it beside itself (the build folder), then in
# ../lib/swift-fpm/ (make install). Without it exec pools serve as before and count nothing.
#
#   make exec-counter      build it into the debug build folder (make test and make build do)

CC ?= cc
EXEC_COUNTER_CFLAGS ?= -O2 -Wall -Wextra -fPIC -shared
EXEC_COUNTER_SOURCES = preload/exec_counter.c

.PHONY: exec-counter

## exec-counter DIR=…: build the library into DIR (default: swift build's debug bin folder).
exec-counter:
	@dir="$(if $(DIR),$(DIR),$$($(SWIFT) build --show-bin-path))"; mkdir -p "$$dir" && \
	$(CC) $(EXEC_COUNTER_CFLAGS) -o "$$dir/libFPMExecCounter.so" $(EXEC_COUNTER_SOURCES) -ldl && \
	echo "built $$dir/libFPMExecCounter.so"
