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

    @Test func shippedPoolFileLoadsWithOnlyPHPWarnings() throws {
        try requireInstalled(Self.poolFile)
        let text = try String(contentsOfFile: Self.poolFile, encoding: .utf8)
        let configuration = try ConfigurationLoader.load(
            text: "[global]\n" + text, path: Self.poolFile, environment: [:], fileSystem: Self.fileSystem)
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
        let configuration = try ConfigurationLoader.load(path: Self.mainFile, environment: [:], fileSystem: Self.fileSystem)
        #expect(configuration.global.pid == "/run/php/php8.2-fpm.pid")
        #expect(configuration.global.errorLog == "/var/log/php8.2-fpm.log")
        #expect(configuration.pool(named: "www")?.listen == .unix(path: "/run/php/php8.2-fpm.sock"))
        for warning in configuration.warnings {
            #expect(warning.directive?.hasPrefix("php_") == true, "unexpected warning: \(warning)")
        }
    }
}
