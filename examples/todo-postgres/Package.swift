// swift-tools-version:6.0
import PackageDescription

// A small JSON API on swift-fpm's async handlers and PostgresNIO: one PostgreSQL connection
// per worker, opened in its async setUp.
let package = Package(
    name: "todo-postgres",
    dependencies: [
        .package(name: "swift-fpm", path: "../.."),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .executableTarget(
            name: "todo-postgres",
            dependencies: [
                .product(name: "FPM", package: "swift-fpm"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(name: "TodoPostgresTests", dependencies: ["todo-postgres"]),
    ]
)
