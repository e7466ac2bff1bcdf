import FPMSystem

/// The configuration process control runs with: its timings and the emergency-restart rule.
extension ProcessControl {
    /// Every timing process control uses, in one place (nanoseconds).
    package struct Timings: Equatable, Sendable {
        /// How long a graceful stop lets a worker finish: process_control_timeout, where php-fpm's
        /// default of 0 (cut in-flight requests) is read as "unset" and drains for 30 s.
        package var drain: Int
        /// SIGTERM → SIGKILL for one worker (drain over, request_terminate_timeout).
        package var killGrace = 1_000_000_000
        /// SIGTERM → SIGKILL during a fast stop: process_control_timeout, at least 1 s.
        package var stopKillGrace: Int
        /// How long a reload's previous generation serves at most while the new one starts.
        package var handoverLimit = 15_000_000_000
        /// How long one pool's preparation may run before it is killed and the reload fails.
        package var preparationLimit = PoolPreparation.deadlineNanos

        package init(processControlTimeout seconds: Int) {
            drain = (seconds > 0 ? seconds : 30) * 1_000_000_000
            stopKillGrace = max(1, seconds) * 1_000_000_000
        }
    }

    /// emergency_restart_threshold crashes within emergency_restart_interval seconds → reload.
    package struct EmergencyRestart: Equatable, Sendable {
        package var threshold: Int
        package var intervalNanos: Int

        package init(threshold: Int, intervalSeconds: Int) {
            self.threshold = threshold
            self.intervalNanos = intervalSeconds * 1_000_000_000
        }

        var isEnabled: Bool { threshold > 0 && intervalNanos > 0 }
    }
}
