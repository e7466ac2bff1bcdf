// swift-tools-version:6.0
import PackageDescription

// A user's app on swift-fpm: its own package, depending on the FPM library by path.
let package = Package(
    name: "hello",
    dependencies: [
        .package(name: "swift-fpm", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "hello",
            dependencies: [.product(name: "FPM", package: "swift-fpm")]
        ),
        .testTarget(
            name: "HelloTests",
            dependencies: [
                "hello",
                .product(name: "FPMTesting", package: "swift-fpm"),
                .product(name: "FastCGI", package: "swift-fpm"),
                .product(name: "FastCGIClient", package: "swift-fpm"),
            ]
        ),
    ]
)
