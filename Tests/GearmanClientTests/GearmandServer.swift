import FPMSystem
import Foundation
import Gearman
import GearmanClient
#if canImport(Glibc)
import Glibc
#endif

/// A real gearmand (Debian's gearman-job-server) for one test: on a free 127.0.0.1 port, its
/// log and pid file in a temporary folder, stopped by pid. A missing gearmand is an error
/// that says what to install, never a skip.
final class GearmandServer {
    static let binary = "/usr/sbin/gearmand"

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    let address: GearmanServerAddress
    let directory: String
    private let process = Process()

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Missing(description: "\(Self.binary) is missing: install gearman-job-server (`make deps` does)")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gearmand-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try Self.freePort()
        address = GearmanServerAddress(host: "127.0.0.1", port: port)
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--listen=127.0.0.1", "--port=\(port)", "--threads=1",
                             "--log-file=\(directory)/gearmand.log", "--pid-file=\(directory)/gearmand.pid"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntilServing()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var pid: Int32 { process.processIdentifier }

    /// Stops gearmand (SIGKILL to its pid) and waits for it. Idempotent. Not SIGTERM: a child
    /// started from a test thread inherits that thread's blocked signals, and gearmand (whose
    /// signal thread does not unblock them) would never see it.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Retries the admin `version` until it answers (gearmand binds after it starts), up to
    /// 10 s; an exited gearmand fails at once with its log.
    private func waitUntilServing() throws {
        let deadline = SystemClock.monotonicNanos() + 10_000_000_000
        while true {
            if !process.isRunning {
                let log = (try? String(contentsOfFile: "\(directory)/gearmand.log", encoding: .utf8)) ?? ""
                throw Missing(description: "gearmand exited with status \(process.terminationStatus):\n\(log)")
            }
            if let admin = try? GearmanAdminConnection(server: address, timeout: 2), (try? admin.version()) != nil { return }
            guard SystemClock.monotonicNanos() < deadline else { throw Missing(description: "gearmand did not answer on \(address) within 10 s") }
            _ = SocketIO.waitReadable(-1, timeoutMillis: 20)
        }
    }

    /// A port nothing listens on now: bind port 0 on 127.0.0.1, read it back, close.
    static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw Missing(description: "no free port: errno \(errno)") }
        return UInt16(bigEndian: addr.sin_port)
    }
}

enum LibgearmanOracle {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let built: Result<String, GearmandServer.Missing> = build()

    static func build() -> Result<String, GearmandServer.Missing> {
        guard FileManager.default.fileExists(atPath: "/usr/include/libgearman-1.0/gearman.h") else {
            return .failure(.init(description: "/usr/include/libgearman-1.0/gearman.h is missing: install libgearman-dev (`make deps` does)"))
        }
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        make.arguments = ["make", "--no-print-directory", "-s", "-C", root, "gearman-oracle"]
        let err = Pipe()
        make.standardError = err
        make.standardOutput = FileHandle.nullDevice
        do { try make.run() } catch { return .failure(.init(description: "cannot run make: \(error)")) }
        let message = err.fileHandleForReading.readDataToEndOfFile()
        make.waitUntilExit()
        guard make.terminationStatus == 0 else {
            return .failure(.init(description: "make gearman-oracle failed:\n\(String(decoding: message, as: UTF8.self))"))
        }
        // cc ran with this test process's umask, which Socket.listenUnix narrows for a moment
        // while another test binds a unix socket: the programs may lack their execute bits.
        for program in ["gearman_oracle_worker", "gearman_oracle_client"] {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/.build/gearman-oracle/" + program)
        }
        return .success(root + "/.build/gearman-oracle")
    }

    /// Starts the C worker for `count` jobs of `function`; its JOB lines come on `output`.
    static func worker(_ server: GearmanServerAddress, function: String, count: Int) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try built.get() + "/gearman_oracle_worker")
        process.arguments = [server.host, String(server.port), function, String(count)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Starts the C client submitting `payload` (from a file on its standard input).
    static func client(_ server: GearmanServerAddress, mode: String, function: String, unique: String?,
                       payload: [UInt8], in directory: String) throws -> (process: Process, stdout: Pipe, stderr: Pipe) {
        let input = directory + "/payload-\(UUID().uuidString.prefix(8))"
        _ = FileManager.default.createFile(atPath: input, contents: Data(payload))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try built.get() + "/gearman_oracle_client")
        process.arguments = [server.host, String(server.port), mode, function, unique ?? "-"]
        process.standardInput = FileHandle(forReadingAtPath: input)
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        return (process, stdout, stderr)
    }

    /// The C worker's JOB line for a job: handle, unique, size, FNV-1a hash.
    struct JobLine: Equatable {
        var handle: String
        var unique: String
        var size: Int
        var hash: String

        init?(_ line: Substring) {
            let f = line.split(separator: " ")
            guard f.count == 5, f[0] == "JOB", let size = Int(f[3]) else { return nil }
            handle = String(f[1]); unique = String(f[2]); self.size = size; hash = String(f[4])
        }
    }
}

func fnv1a(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 1469598103934665603
    for b in bytes { h = (h ^ UInt64(b)) &* 1099511628211 }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

/// Payloads that a text-minded codec would break: empty, NULs throughout, every byte value, 1 MiB.
enum Payloads {
    static let empty: [UInt8] = []
    static let nuls: [UInt8] = [0, 0, 0x41, 0, 0x42, 0]
    static let allBytes: [UInt8] = (0...255).map { UInt8($0) }
    static let megabyte: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: ($0 &* 2654435761) >> 13) & ($0 % 7 == 0 ? 0 : 0xFF) }
}
