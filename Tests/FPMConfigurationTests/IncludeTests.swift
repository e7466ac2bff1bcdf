import Foundation
import FPMConfiguration
import Testing

@Suite struct IncludeTests {
    /// A fresh directory under the system temp dir, removed by the caller.
    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "fpm-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func pool(_ name: String, port: Int) -> String {
        "[\(name)]\nlisten = 127.0.0.1:\(port)\npm = static\npm.max_children = 1\nhandler = info\n"
    }

    @Test func globMatchesAreReadInAlphabeticalOrderRelativeToThePrefix() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(pool("b", port: 9002), to: root + "/pool.d/20-b.conf")
        try write(pool("a", port: 9001) + "ping.response = from-a\n", to: root + "/pool.d/10-a.conf")
        try write("[a]\nping.response = from-c\n", to: root + "/pool.d/30-c.conf")
        try FileManager.default.createDirectory(atPath: root + "/pool.d/25-dir.conf", withIntermediateDirectories: true)
        try write("[global]\ninclude = pool.d/*.conf\n", to: root + "/etc/fpm.conf")
        let configuration = try ConfigurationLoader.load(path: root + "/etc/fpm.conf", prefix: root, environment: [:])
        #expect(configuration.pools.map(\.name) == ["a", "b"])
        #expect(configuration.pools[0].pingResponse == "from-c")
        #expect(configuration.pools[0].sourceFile == root + "/pool.d/10-a.conf")
        #expect(configuration.pools[0].sourceLine == 1)
    }

    @Test func withoutAPrefixIncludesAreRelativeToTheMainFile() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(pool("www", port: 9001), to: root + "/pool.d/www.conf")
        try write("[global]\ninclude = pool.d/*.conf\n", to: root + "/fpm.conf")
        let configuration = try ConfigurationLoader.load(path: root + "/fpm.conf", environment: [:])
        #expect(configuration.pools.map(\.name) == ["www"])
    }

    @Test func errorsInIncludedFilesNameThatFile() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try write(pool("www", port: 9001) + "bogus = 1\n", to: root + "/pool.d/www.conf")
        try write("[global]\ninclude = pool.d/*.conf\n", to: root + "/fpm.conf")
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: root + "/fpm.conf", environment: [:]) }
        do {
            _ = try ConfigurationLoader.load(path: root + "/fpm.conf", environment: [:])
        } catch {
            #expect(error.errors.map(\.description) == ["\(root)/pool.d/www.conf:6: bogus = 1: unknown directive"])
        }
    }

    @Test func nothingMatchingIsAWarning() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let configuration = try load(minimalPool + "include = \(root)/zz*.conf\n", fileSystem: .system)
        #expect(configuration.warnings.map(\.description) == [
            "t.conf:6: include = \(root)/zz*.conf: nothing matches the include pattern '\(root)/zz*.conf'"
        ])
    }

    @Test func aMissingDirectoryIsAnError() {
        #expect(errors(minimalPool + "include = /nonexistent-dir/*.conf\n", fileSystem: .system) == [
            "t.conf:6: include = /nonexistent-dir/*.conf: unable to globalize '/nonexistent-dir/*.conf': unable to expand the pattern (glob returned 2): the directory does not exist or cannot be read"
        ])
    }

    @Test func includesNestAtMostFiveLevels() {
        var files: [String: String] = ["/c/0.conf": minimalPool + "include = /c/1.conf\n"]
        for level in 1...6 { files["/c/\(level).conf"] = "include = /c/\(level + 1).conf\n" }
        files["/c/7.conf"] = "; end\n"
        let fileSystem = ConfigurationFileSystem.virtual(files: files)
        do {
            _ = try ConfigurationLoader.load(path: "/c/0.conf", environment: [:], fileSystem: fileSystem)
            Issue.record("expected the nesting limit")
        } catch {
            #expect(error.errors.map(\.description) == [
                "/c/5.conf:1: include = /c/6.conf: failed to include more than 5 files recursively"
            ])
        }
        files["/c/5.conf"] = "; end\n"
        #expect(throws: Never.self) {
            try ConfigurationLoader.load(path: "/c/0.conf", environment: [:], fileSystem: .virtual(files: files))
        }
    }

    @Test func sectionContextCarriesAcrossIncludesAsInPHPFPM() throws {
        let fileSystem = ConfigurationFileSystem.virtual(files: [
            "/c/fpm.conf": "[global]\ninclude = /c/pool.d/*.conf\nping.response = after\n",
            "/c/pool.d/www.conf": minimalPool,
        ])
        let configuration = try ConfigurationLoader.load(path: "/c/fpm.conf", environment: [:], fileSystem: fileSystem)
        #expect(configuration.pools[0].pingResponse == "after")
    }

    @Test func includesAreRefusedWhenTheFileSystemIsIsolated() {
        #expect(errors(minimalPool + "include = /etc/*.conf\n") == [
            "t.conf:6: include = /etc/*.conf: unable to globalize '/etc/*.conf': includes are disabled"
        ])
    }
}

@Suite struct MainFileTests {
    @Test func anUnreadableMainFileIsAnError() {
        do {
            _ = try ConfigurationLoader.load(path: "/nonexistent/fpm.conf", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "/nonexistent/fpm.conf: unable to read the configuration file: No such file or directory")
        }
    }
}
