// swift-tools-version:6.0
import PackageDescription

// The MySQL → Gearman → Redis sync on a swift-fpm job pool (issue #21): the `redis-sync`
// binary registers the job handler `syncToRedis`; RESP is a small Redis client of its own (no
// Swift Redis package is available), RedisSync the version-guarded write.
let package = Package(
    name: "redis-sync",
    dependencies: [
        .package(name: "swift-fpm", path: "../.."),
    ],
    targets: [
        .target(name: "RESP"),
        .target(name: "RedisSync", dependencies: ["RESP", .product(name: "FPM", package: "swift-fpm")]),
        .executableTarget(
            name: "redis-sync",
            dependencies: ["RedisSync", .product(name: "FPM", package: "swift-fpm")]
        ),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(
            name: "RedisSyncTests",
            dependencies: [
                "RedisSync", "RESP", "redis-sync",
                .product(name: "FPMTesting", package: "swift-fpm"),
                .product(name: "Gearman", package: "swift-fpm"),
                .product(name: "GearmanClient", package: "swift-fpm"),
            ]
        ),
    ]
)
