// swift-tools-version:6.0
import PackageDescription

/// One set of Swift settings for every target: Swift 6 mode is the tools-version default;
/// these add the upcoming checks we want everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "swift-fpm",
    products: [
        .library(name: "FastCGI", targets: ["FastCGI"]),
        .library(name: "FastCGIClient", targets: ["FastCGIClient"]),
        .library(name: "FPM", targets: ["FPM"]),
        // Gearman's protocol and a blocking client: a FastCGI handler queues background work
        // for a job pool (docs/JOBS.md).
        .library(name: "Gearman", targets: ["Gearman"]),
        .library(name: "GearmanClient", targets: ["GearmanClient"]),
        .library(name: "FPMTesting", targets: ["FPMTesting"]),
        .executable(name: "fpm", targets: ["fpm"]),
        .executable(name: "fpmctl", targets: ["fpmctl"]),
        .executable(name: "fcgibench", targets: ["fcgibench"]),
        // `swift package fpm-install`: an app's release binary, pool files, systemd units,
        // logrotate snippet and man page, laid out under PREFIX/DESTDIR.
        .plugin(name: "fpm-install", targets: ["FPMInstall"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        // 1.16: LogHandler.log(event:).
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
        // Server spans when an app bootstraps a tracer (FPM only; a small, dependency-free package).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // MetricsMiddleware: request count and duration by route; a no-op until an app bootstraps a backend.
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    ],
    targets: [
        // The wire protocol, both sides, over byte buffers. No dependency beyond the stdlib; no I/O.
        .target(name: "FastCGI", swiftSettings: swiftSettings),
        // A blocking FastCGI client (fpmctl, fcgibench, FPMTesting's live mode, the tests): the
        // codec over a socket, its calls through the system layer.
        .target(name: "FastCGIClient", dependencies: ["FastCGI", "FPMSystem"], swiftSettings: swiftSettings),
        // Gearman's binary and admin protocols over byte buffers (job pools, the client API). No I/O.
        .target(name: "Gearman", swiftSettings: swiftSettings),
        // A blocking Gearman worker, client and admin connection: the codec over a socket, its
        // calls through the system layer.
        .target(name: "GearmanClient", dependencies: ["Gearman", "FPMSystem"], swiftSettings: swiftSettings),
        // php-fpm's configuration language: reader, directive table, validation, -tt dump.
        // Kept apart from FPM so it can be fuzzed and tested without the process machinery;
        // its few questions to the real system (files, globs, accounts) go through FPMSystem.
        .target(name: "FPMConfiguration", dependencies: ["FPMSystem", "Gearman"], swiftSettings: swiftSettings),
        // What Glibc's module map does not expose (signalfd, pipe2, accept4, wait macros…).
        .target(name: "CFPMShims"),
        // The system layer: every libc call, behind typed wrappers that throw errors naming the call.
        .target(
            name: "FPMSystem",
            dependencies: ["CFPMShims", .product(name: "SystemPackage", package: "swift-system")],
            swiftSettings: swiftSettings
        ),
        // What a status reader needs: the scoreboard (layout, slot writer, snapshot reader), the
        // master's state file, the status model, pages and renderers, health, top. What fpmctl
        // links instead of the master. `package` access only.
        .target(
            name: "FPMStatus",
            dependencies: [
                "FastCGI", "FPMConfiguration", "FPMSystem",
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The server internals: master (process control, reload, pm), worker and its FastCGI
        // session, logs, built-in handlers. `package` access only.
        .target(
            name: "FPMServer",
            dependencies: [
                "FastCGI", "FPMConfiguration", "FPMSystem", "FPMStatus", "Gearman", "GearmanClient",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),
        // What an app imports: Handler, Router, Request, Response, HTTPError, WorkerInfo, FPMMain.
        .target(
            name: "FPM",
            dependencies: [
                "FPMServer", "FPMStatus", "FPMSystem", "FastCGI", "FPMConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // In-process tests of an app's handler or router: a built request in, status, headers
        // and body out; no socket, no fork. Its live mode starts the app's real binary.
        .target(
            name: "FPMTesting",
            dependencies: [
                "FPM", "FPMServer", "FPMStatus", "FastCGI", "FastCGIClient", "FPMConfiguration", "FPMSystem",
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fpm",
            dependencies: ["FPM", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "fpmctl",
            dependencies: [
                "FPMStatus", "FPMSystem", "FastCGI", "FastCGIClient", "FPMConfiguration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // A FastCGI load generator (`make bench`, or any upstream without a web server in the way).
        .executableTarget(
            name: "fcgibench",
            dependencies: [
                "FastCGI", "FastCGIClient", "FPMSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: swiftSettings
        ),
        // `make bench-router`: route lookups per second with 200 routes, the tree against a linear scan.
        .executableTarget(
            name: "router-bench",
            dependencies: ["FPM", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "bench/router",
            swiftSettings: swiftSettings
        ),
        // The fpm-install command plugin (Plugins/FPMInstall): deploys an app built on FPM.
        .plugin(
            name: "FPMInstall",
            capability: .command(intent: .custom(verb: "fpm-install", description: "Build an app's static release binary and install it with its pool files, systemd units, logrotate snippet and man page"))
        ),
        // A small app on the FPM library, used by the integration tests as a user's app would be.
        .executableTarget(
            name: "fpm-testapp",
            // FastCGIClient: the /relay route (the multi-host suite's Swift writes).
            dependencies: ["FPM", "FPMSystem", "FastCGI", "FastCGIClient"],
            path: "Tests/Fixtures/TestApp",
            swiftSettings: swiftSettings
        ),
        // FastCGIClient: the libfcgi differential test feeds the oracle through it.
        .testTarget(name: "FastCGITests", dependencies: ["FastCGI", "FastCGIClient", "FPMSystem"], swiftSettings: swiftSettings),
        .testTarget(name: "FastCGIClientTests", dependencies: ["FastCGIClient", "FastCGI", "FPMSystem"], swiftSettings: swiftSettings),
        .testTarget(name: "GearmanTests", dependencies: ["Gearman"], swiftSettings: swiftSettings),
        // GearmanClient against a real gearmand and libgearman's worker and client (the oracle).
        .testTarget(name: "GearmanClientTests", dependencies: ["GearmanClient", "Gearman", "FPMSystem"], swiftSettings: swiftSettings),
        .testTarget(name: "FPMConfigurationTests", dependencies: ["FPMConfiguration"], swiftSettings: swiftSettings),
        .testTarget(name: "FPMSystemTests", dependencies: ["FPMSystem", .product(name: "SystemPackage", package: "swift-system")], swiftSettings: swiftSettings),
        .testTarget(name: "FPMServerTests", dependencies: ["FPMServer", "FPMStatus", "FPMSystem", "FastCGI", "FPMConfiguration", .product(name: "Logging", package: "swift-log")], swiftSettings: swiftSettings),
        .testTarget(name: "FPMStatusTests", dependencies: ["FPMStatus", "FPMSystem", "FastCGI", "FPMConfiguration"], swiftSettings: swiftSettings),
        .testTarget(
            name: "FPMTests",
            // fpm-testapp: the binary TestClient's live mode is tested on.
            dependencies: [
                "FPM", "FPMTesting", "FPMServer", "FastCGI", "fpm-testapp", .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"), .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            // Gearman, GearmanClient: the job pool tests submit jobs and read gearmand's status.
            dependencies: ["FastCGI", "FastCGIClient", "FPMConfiguration", "Gearman", "GearmanClient", "FPMSystem", "fpm", "fpmctl", "fpm-testapp", "fcgibench"],
            swiftSettings: swiftSettings
        ),
    ]
)
