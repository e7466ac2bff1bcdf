# The FastCGI codec (Sources/FastCGI): libFuzzer target and codec micro-benchmark.
#
# `make fuzz-fastcgi` builds fuzz/bin/fastcgi-parser and runs it FUZZ_SECONDS (default 600) on
# fuzz/corpus-fastcgi, which starts from the committed seeds in fuzz/corpus-seed-fastcgi.
# Crash files land in fuzz/.
# `make bench-codec` builds bench/codec in release mode with a malloc-counting LD_PRELOAD shim
# and prints ns/request and heap allocations/request for parsing + framing.

SWIFTC ?= swiftc
SWIFT ?= swift
CC ?= cc
FUZZ_SECONDS ?= 600
FASTCGI_FUZZ_SOURCES = $(wildcard Sources/FastCGI/*.swift) fuzz/FastCGIParserFuzz.swift
BENCH_CODEC_ITERATIONS ?= 200000

.PHONY: fuzz-fastcgi fuzz-fastcgi-build bench-codec

fuzz/bin/fastcgi-parser: $(FASTCGI_FUZZ_SOURCES)
	@mkdir -p fuzz/bin
	$(SWIFTC) -O -sanitize=fuzzer,address -parse-as-library -module-name FastCGIFuzz \
		$(FASTCGI_FUZZ_SOURCES) -o $@

fuzz-fastcgi-build: fuzz/bin/fastcgi-parser

fuzz-fastcgi: fuzz/bin/fastcgi-parser
	@mkdir -p fuzz/corpus-fastcgi
	@cp -n fuzz/corpus-seed-fastcgi/* fuzz/corpus-fastcgi/ 2>/dev/null || true
	cd fuzz && SWIFT_BACKTRACE=enable=no ./bin/fastcgi-parser -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-timeout=10 corpus-fastcgi

bench/codec/.build/malloc-counter.so: bench/codec/malloc-counter.c
	@mkdir -p bench/codec/.build
	$(CC) -O2 -shared -fPIC -o $@ $< -ldl

bench-codec: bench/codec/.build/malloc-counter.so
	$(SWIFT) build -c release --package-path bench/codec --scratch-path bench/codec/.build
	LD_PRELOAD=$(CURDIR)/bench/codec/.build/malloc-counter.so \
		bench/codec/.build/release/codec-bench $(BENCH_CODEC_ITERATIONS)
