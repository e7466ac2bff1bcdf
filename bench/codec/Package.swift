// swift-tools-version:6.0
// Codec micro-benchmark for the FastCGI target: `make bench-codec` from the repository root.
import PackageDescription

// A path dependency's identity is its folder's name, which depends on the clone
// ("swift-fpm", "main", …): derive it from where this manifest lives (bench/codec).
let rootName = String(Context.packageDirectory.split(separator: "/").dropLast(2).last!)

let package = Package(
    name: "codec-bench",
    dependencies: [.package(path: "../..")],
    targets: [
        .executableTarget(
            name: "codec-bench",
            dependencies: [.product(name: "FastCGI", package: rootName)],
            swiftSettings: [.enableUpcomingFeature("MemberImportVisibility")]
        ),
    ]
)
