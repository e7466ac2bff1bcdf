import Foundation
import FPMConfiguration
import Testing

/// php-fpm's own shipped files (Debian php8.2-fpm, installed by `make test`) must load, with
/// warnings only for PHP-specific lines.
@Suite struct ShippedPHPFPMConfigurationTests {
    static let poolFile = "/etc/php/8.2/fpm/pool.d/www.conf"
    static let mainFile = "/etc/php/8.2/fpm/php-fpm.conf"

    /// Accounts are taken to exist so the test does not depend on www-data being present.
    static let fileSystem = ConfigurationFileSystem(
        readFile: ConfigurationFileSystem.system.readFile, glob: ConfigurationFileSystem.system.glob,
        isDirectory: { _ in true }, isExecutable: { _ in true }, userExists: { _ in true }, groupExists: { _ in true })

    func requireInstalled(_ path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            Issue.record("\(path) is missing: install php8.2-fpm (`make deps` does) to run this test")
            throw CancellationError()
        }
    }

    /// As shipped, php-fpm's pool names no `handler` (PHP is implied): swift-fpm refuses it rather
    /// than serving `info` (every `.php` URL would answer with the request's params, cookies
    /// included). The error names the file, the pool's line and both directives.
    @Test func shippedPoolFileIsRefusedForWantOfAHandler() throws {
        try requireInstalled(Self.poolFile)
        let text = try String(contentsOfFile: Self.poolFile, encoding: .utf8)
        #expect {
            _ = try ConfigurationLoader.load(
                text: "[global]\n" + text, path: Self.poolFile, environment: [:], fileSystem: Self.fileSystem)
        } throws: { error in
            let lines = (error as? ConfigurationError)?.errors.map(\.description) ?? []
            return lines.count == 1 && lines[0].hasPrefix(Self.poolFile + ":")
                && lines[0].contains("'handler'") && lines[0].contains("'exec'")
        }
    }

    /// With the one line it needs (`handler = cgi`), the rest of the shipped file loads with
    /// warnings only for PHP-specific lines.
    @Test func shippedPoolFileLoadsWithOnlyPHPWarnings() throws {
        try requireInstalled(Self.poolFile)
        let text = try String(contentsOfFile: Self.poolFile, encoding: .utf8)
        let configuration = try ConfigurationLoader.load(
            text: "[global]\n" + text + "\nhandler = cgi\n", path: Self.poolFile, environment: [:], fileSystem: Self.fileSystem)
        let pool = try #require(configuration.pool(named: "www"))
        #expect(pool.listen == .unix(path: "/run/php/php8.2-fpm.sock"))
        #expect(pool.user == "www-data" && pool.pm == .dynamic && pool.maxChildren == 5)
        for warning in configuration.warnings {
            #expect(warning.directive?.hasPrefix("php_") == true, "unexpected warning: \(warning)")
        }
    }

    @Test func shippedMainFileLoadsWithItsIncludes() throws {
        try requireInstalled(Self.mainFile)
        try requireInstalled(Self.poolFile)
        // The included pool file gets the `handler` line it needs, as a user would add it.
        let system = ConfigurationFileSystem.system
        let fileSystem = ConfigurationFileSystem(
            readFile: { path in
                let result = system.readFile(path)
                guard path == Self.poolFile else { return result }
                return result.map { $0 + Array("\nhandler = cgi\n".utf8) }
            },
            glob: system.glob, isDirectory: { _ in true }, isExecutable: { _ in true },
            userExists: { _ in true }, groupExists: { _ in true })
        let configuration = try ConfigurationLoader.load(path: Self.mainFile, environment: [:], fileSystem: fileSystem)
        #expect(configuration.global.pid == "/run/php/php8.2-fpm.pid")
        #expect(configuration.global.errorLog == "/var/log/php8.2-fpm.log")
        #expect(configuration.pool(named: "www")?.listen == .unix(path: "/run/php/php8.2-fpm.sock"))
        for warning in configuration.warnings {
            #expect(warning.directive?.hasPrefix("php_") == true, "unexpected warning: \(warning)")
        }
    }
}
