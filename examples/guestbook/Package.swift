// swift-tools-version:6.0
import PackageDescription

// A small real app on swift-fpm: a guestbook in SQLite (GRDB, over the system SQLite:
// Debian's libsqlite3-dev), one database connection per worker.
let package = Package(
    name: "guestbook",
    dependencies: [
        .package(name: "swift-fpm", path: "../.."),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
    ],
    targets: [
        .executableTarget(
            name: "guestbook",
            dependencies: [
                .product(name: "FPM", package: "swift-fpm"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "GuestbookTests",
            dependencies: ["guestbook", .product(name: "FastCGI", package: "swift-fpm"), .product(name: "FastCGIClient", package: "swift-fpm")]
        ),
    ]
)
