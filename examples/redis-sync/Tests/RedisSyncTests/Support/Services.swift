import Foundation

/// The servers the tests start for themselves (redis-server, gearmand, MariaDB, the app), each
/// in a temp folder on a free 127.0.0.1 port, stopped by pid, last started first.
final class Services {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let dir: String
    private var children: [(Child, Int32)] = []

    init(_ name: String) throws {
        dir = NSTemporaryDirectory() + "redis-sync-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    deinit { stop() }

    /// Starts `path`; its output goes to `log` in the folder. `stopSignal` ends it in stop().
    @discardableResult
    func start(_ path: String, _ arguments: [String], log: String, environment: [String: String] = [:],
               stopSignal: Int32 = SIGTERM) throws -> Child {
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0)=\($1)" }
        let child = try Child(path, arguments, environment: env, output: dir + "/" + log)
        children.append((child, stopSignal))
        return child
    }

    /// Runs `path` to its end; its standard output, or a Failure with its output.
    @discardableResult
    func run(_ path: String, _ arguments: [String], input: String? = nil) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let out = Pipe(), stdin = Pipe()
        let errPath = dir + "/run-stderr-\(UUID().uuidString.prefix(8))"
        FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try p.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        let text = String(decoding: outData, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(path) \(arguments.joined(separator: " ")) exited \(p.terminationStatus): \(text)\(String(decoding: errData, as: UTF8.self))")
        }
        return text
    }

    func read(_ log: String) -> String { (try? String(contentsOfFile: dir + "/" + log, encoding: .utf8)) ?? "" }

    func write(_ file: String, _ text: String) throws {
        try text.write(toFile: dir + "/" + file, atomically: true, encoding: .utf8)
    }

    func stop() {
        for (child, signal) in children.reversed() { child.stop(signal) }
        children.removeAll()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Polls `condition` every 20 ms until it holds or `timeout` seconds passed; whether it held.
    static func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    /// A port nothing listens on now (the kernel picks it).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// The example's folder (examples/redis-sync) and the repository's root.
    static let exampleDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let repositoryDir = URL(fileURLWithPath: exampleDir).deletingLastPathComponent().deletingLastPathComponent().path

    /// The `redis-sync` binary the test bundle was built with.
    static let binary: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("redis-sync").path),
              url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("redis-sync").path
    }()
}
