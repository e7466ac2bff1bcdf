import FPMStatus
import FPMSystem

extension ProcessControl {
    /// Workers that cannot start (a bad deploy, a missing library, `exec = /bin/false`: an error
    /// exit soon after the fork) are respawned after 1 s, 2 s, 4 s … at most `cap` apart, not
    /// once a second for ever; the delay grows once per round of failures (the workers started
    /// together fail together: one step, not one per worker) and is reset as soon as a worker
    /// of the pool has run `soon`. php-fpm respawns at once, and its `emergency_restart_*`
    /// restarts the whole master instead.
    package struct RespawnBackoff: Equatable, Sendable {
        /// One pool that is backing off.
        package struct Pool: Equatable, Sendable {
            /// Rounds of failure so far (1: the first).
            package var step: Int
            /// When the current step began: a worker started before it belongs to that round.
            package var since: Int
            /// The last failed worker's end, as the log says it.
            package var lastExit: String
            /// When the next worker is forked.
            package var nextRespawn: Int
        }

        /// The first delay, and how soon after its start an error exit counts as "cannot start".
        package var base: Int
        package var cap: Int
        package private(set) var pools: [String: Pool] = [:]

        package init(base: Int = 1_000_000_000, cap: Int = 32_000_000_000) {
            self.base = base
            self.cap = cap
        }

        /// The delay of round `step` (1, 2, …).
        package func delay(step: Int) -> Int {
            var delay = base
            for _ in 1..<max(1, step) where delay < cap { delay *= 2 }
            return min(cap, delay)
        }

        /// Whether a worker that ended so counts as one that could not start.
        package func isStartFailure(_ status: ExitStatus, lifetime: Int) -> Bool {
            if case .exited(let code) = status, code != 0, lifetime < base { return true }
            return false
        }

        /// A worker of `pool` forked at `started` could not start: when to fork its replacement,
        /// and whether this opened a new round (a line for the log), with the round's delay.
        package mutating func failed(pool: String, started: Int, now: Int, exit: String) -> (at: Int, newRound: Bool) {
            var state = pools[pool] ?? Pool(step: 0, since: Int.min, lastExit: exit, nextRespawn: now)
            state.lastExit = exit
            let newRound = started >= state.since
            if newRound {
                state.step += 1
                state.since = now
                state.nextRespawn = now + delay(step: state.step)
            }
            pools[pool] = state
            return (state.nextRespawn, newRound && (state.step == 1 || delay(step: state.step) != delay(step: state.step - 1)))
        }

        /// A worker of `pool` has run long enough: its next failure starts from the first delay
        /// again. Returns whether the pool was backing off.
        @discardableResult
        package mutating func survived(pool: String) -> Bool {
            pools.removeValue(forKey: pool) != nil
        }

        package mutating func removeAll() { pools.removeAll() }
    }

    /// A pool with no live worker because its workers cannot start: what readiness says and
    /// what the master's admission answers its connections with (`poolIsDown`).
    package struct PoolDown: Equatable, Sendable {
        /// "its workers exit at start (last: exited with code 1 after 0.004 seconds from start)".
        package var reason: String
        /// When the master forks its next worker (monotonic ns): a `Retry-After`.
        package var nextRespawn: Int

        /// Whole seconds until the next respawn, at least 1.
        package func retryAfterSeconds(now: Int) -> Int {
            max(1, (nextRespawn - now + 999_999_999) / 1_000_000_000)
        }
    }

    /// The pools of the serving generation that have no live worker because their workers
    /// cannot start. Empty while the master stops.
    package var downPools: [String: PoolDown] {
        guard phase.isServing || phase == .starting, !backoff.pools.isEmpty else { return [:] }
        var down: [String: PoolDown] = [:]
        let live = Set(children.values.lazy.filter { $0.generation == self.generation }.map(\.pool))
        for (pool, state) in backoff.pools where !live.contains(pool) {
            down[pool] = PoolDown(reason: "its workers exit at start (last: \(state.lastExit))", nextRespawn: state.nextRespawn)
        }
        return down
    }

    /// Whether `pool` has no live worker because its workers cannot start (nil: it is not down).
    /// For the master's admission, which answers such a pool's connections itself.
    package func poolIsDown(_ pool: String) -> PoolDown? {
        guard let state = backoff.pools[pool], phase.isServing || phase == .starting,
              !children.values.contains(where: { $0.pool == pool && $0.generation == generation }) else { return nil }
        return PoolDown(reason: "its workers exit at start (last: \(state.lastExit))", nextRespawn: state.nextRespawn)
    }
}
