# Shortcuts around bench/run.sh (the full run is `make bench`; knobs are listed in bench/run.sh).
# `make bench-quick`: one short round, to check the harness. `make bench-reload`: only the
# reload comparison (php-fpm's stall behind a slow request vs swift-fpm's). `make bench-malloc`:
# heap allocations per served request in a worker (bench/malloc-per-request.sh).
# `make bench-pools`: -t, start, reload and master descriptors with 5,000 pools, beside php-fpm
# (bench/many-pools.sh; POOLS=N, ROUNDS=N).

.PHONY: bench-quick bench-reload bench-malloc bench-pools

bench-quick:
	BENCH_ROUNDS=1 BENCH_DURATION=3 BENCH_WARMUP=1 bench/run.sh

bench-reload:
	BENCH_ROUNDS=0 BENCH_STRACE=0 bench/run.sh

bench-malloc:
	swift build -c release --scratch-path .build-bench --product fpm-testapp
	swift build -c release --scratch-path .build-bench --product fcgibench
	bench/malloc-per-request.sh "$$(swift build -c release --scratch-path .build-bench --show-bin-path)"

bench-pools:
	swift build -c release --scratch-path .build-bench --product fpm
	FPM="$$(swift build -c release --scratch-path .build-bench --show-bin-path)/fpm" bench/many-pools.sh $${POOLS:-5000} $${ROUNDS:-1}

# `make bench-warm`: pm.warm_template's scenario (bench/warm-template.py): a 64 MiB table built
# in warmUp, 8 workers' PSS with the template and without, an ondemand pool's first request.
# Also part of `make bench`. WARM_MB, WARM_WORKERS, WARM_ROUNDS.
.PHONY: bench-warm
bench-warm:
	swift build -c release --scratch-path .build-bench --product fpm-testapp
	bench/warm-template.py "$$(swift build -c release --scratch-path .build-bench --show-bin-path)"

# `make bench-router`: route lookups per second with 200 routes, the router's tree against the
# linear scan it replaced (bench/router; ROUTER_BENCH_LOOKUPS=N per round). Also part of `make bench`.
.PHONY: bench-router
bench-router:
	swift build -c release --scratch-path .build-bench --product router-bench
	"$$(swift build -c release --scratch-path .build-bench --show-bin-path)/router-bench" $${ROUTER_BENCH_LOOKUPS:-2000000}
