import FastCGI
import FastCGIClient
import Foundation
import Testing

/// systemd integration through the real binary: the notifications a service manager receives
/// (on a datagram socket this test binds, as systemd would) and socket activation (a socket
/// this test binds and passes as descriptor 3 with LISTEN_FDS).
@Suite struct SystemdTests {
    /// A unix datagram socket standing in for systemd's notification socket.
    final class NotifyListener {
        let fd: Int32
        /// What NOTIFY_SOCKET says: the path, or `@name` for an abstract socket.
        let address: String
        private(set) var received: [String] = []

        init(path: String? = nil, abstractName: String? = nil) throws {
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            let bytes: [UInt8] = path.map { Array($0.utf8) } ?? [0] + Array((abstractName ?? "").utf8)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let length = socklen_t(offset + bytes.count + (path == nil ? 0 : 1))
            let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard rc == 0 else {
                close(fd)
                throw FPMServer.ServerError("bind: errno \(errno)")
            }
            self.fd = fd
            address = path ?? "@" + (abstractName ?? "")
        }

        /// Receives until `condition` holds over what arrived, or `timeout` passes.
        @discardableResult
        func receive(timeout: Double = 15, until condition: ([String]) -> Bool) -> Bool {
            let deadline = Date().addingTimeInterval(timeout)
            while !condition(received) {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 { return false }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, Int32(left * 1000) + 1) > 0 else { continue }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { received.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
            }
            return true
        }

        /// The state changes, without the periodic WATCHDOG=1 and STATUS= messages.
        var stateMessages: [String] { received.filter { !$0.hasPrefix("WATCHDOG=") && !$0.hasPrefix("STATUS=") } }

        deinit { close(fd) }
    }

    @Test func notificationsArriveInOrderAcrossStartReloadAndStop() throws {
        let server = try FPMServer(global: "systemd_interval = 1", start: false)
        let listener = try NotifyListener(path: server.dir + "/notify.sock")
        server.environment = ["NOTIFY_SOCKET": listener.address, "WATCHDOG_USEC": "400000"]
        try server.start()
        #expect(listener.receive { $0.contains("READY=1") }, "\(listener.received)")
        // The workers are ready when READY=1 arrives.
        #expect(try server.request("/sleep?ms=1").status == 200)
        #expect(listener.receive { $0.contains { $0.hasPrefix("STATUS=") } }, "\(listener.received)")
        let reload = try server.fpmctl(["-y", server.configPath, "reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(listener.receive { $0.filter { $0 == "READY=1" }.count == 2 }, "\(listener.received)")
        // The re-executed image keeps the watchdog fed.
        let fed = listener.received.count
        #expect(listener.receive { $0.dropFirst(fed).contains("WATCHDOG=1") }, "\(listener.received)")
        server.child.signal(SIGQUIT)
        #expect(listener.receive { $0.contains("STOPPING=1") }, "\(listener.received)")
        #expect(server.child.wait(timeout: 10) == 0)

        let states = listener.stateMessages
        #expect(states.count == 4, "\(states)")
        #expect(states.first == "READY=1")
        #expect(states.dropFirst().first?.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") == true, "\(states)")
        #expect(Array(states.dropFirst(2)) == ["READY=1", "STOPPING=1"])
        let status = listener.received.first { $0.hasPrefix("STATUS=") } ?? ""
        #expect(status.hasPrefix("STATUS=Processes active: "), "\(status)")
        #expect(status.contains(", Requests: ") && status.hasSuffix("req/sec"), "\(status)")
        #expect(listener.received.filter { $0 == "WATCHDOG=1" }.count >= 2)
    }

    @Test func anAbstractNotifySocketIsReachedToo() throws {
        let server = try FPMServer(start: false)
        let listener = try NotifyListener(abstractName: "swift-fpm-test-\(UUID().uuidString.prefix(8))")
        server.environment = ["NOTIFY_SOCKET": listener.address]
        try server.start()
        #expect(listener.receive { $0.contains("READY=1") }, "\(listener.received)")
        let refused = listener.received.count
        // A reload the master refuses ends with READY=1 all the same.
        TestSupport.write(server.configPath, TestSupport.read(server.configPath) + "\nbogus_directive = 1\n")
        let reload = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(reload.status == 1)
        #expect(listener.receive { Array($0.dropFirst(refused)).filter { !$0.hasPrefix("STATUS=") }.count >= 2 }, "\(listener.received)")
        let after = Array(listener.received.dropFirst(refused))
        #expect(after.first?.hasPrefix("RELOADING=1") == true && after.dropFirst().first == "READY=1", "\(after)")
    }

    /// Runs the server's binary as systemd would after binding `fd`: descriptor 0 of a shell
    /// becomes 3 (and a copy 4, when `names` names two) of fpm, which the shell's exec makes
    /// the process LISTEN_PID names.
    func startActivated(_ server: FPMServer, fd: Int32, names: String) throws {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = server.dir
        let count = names.split(separator: ":", omittingEmptySubsequences: false).count
        let script = """
            exec 3<&0 4<&0 </dev/null
            LISTEN_PID=$$ LISTEN_FDS=\(count) LISTEN_FDNAMES=\(names)
            export LISTEN_PID LISTEN_FDS LISTEN_FDNAMES
            exec "$0" -F -R -y "$1"
            """
        server.child = try ChildProcess("/bin/sh", ["-c", script, server.binary, server.configPath], environment: env,
                                        directory: server.dir, standardInput: FileHandle(fileDescriptor: fd, closeOnDealloc: false))
    }

    @Test func aUnixSocketSystemdPassedOutlivesReloadAndStop() throws {
        let server = try FPMServer(pools: """
            [www]
            listen = {{DIR}}/www.sock
            pm = static
            pm.max_children = 1
            handler = testapp
            """, start: false)
        let path = server.dir + "/www.sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        #expect(listen(fd, 64) == 0)
        try startActivated(server, fd: fd, names: "www")
        #expect(server.waitForLog("ready to handle connections", timeout: 20), "\(server.log)\n\(server.child.stderr)")
        #expect(server.log.contains("[pool www] using the socket systemd passed, fd=3 (\(path))"), "\(server.log)")
        func ask() throws -> Int {
            let c = try FastCGIClient(connectingTo: FastCGIAddress(path)!, timeout: 10)
            defer { c.close() }
            return try c.request(params: TestSupport.params(uri: "/pid")).status
        }
        #expect(try ask() == 200)
        let reload = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(try ask() == 200)
        let stop = try server.fpmctl(["stop", "--pid", server.pidPath])
        #expect(stop.status == 0, "\(stop.stderr)")
        // systemd still holds the socket: its path must stay for the next start.
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func aPoolServesFromTheSocketSystemdPassed() throws {
        let server = try FPMServer(start: false)
        // The test binds the pool's address itself, as systemd would for a .socket unit.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(server.port).bigEndian)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        #expect(bound == 0)
        #expect(listen(fd, 64) == 0)
        try startActivated(server, fd: fd, names: "www:extra")
        #expect(server.waitForLog("ready to handle connections", timeout: 20), "\(server.log)\n\(server.child.stderr)")
        #expect(server.log.contains("[pool www] using the socket systemd passed, fd=3 (127.0.0.1:\(server.port))"), "\(server.log)")
        #expect(server.log.contains("closed the socket systemd passed as fd=4 (extra) that no pool listens on"), "\(server.log)")
        let r = try server.request("/env")
        #expect(r.status == 200)
        // The variables were for the master alone.
        #expect(!r.bodyText.contains("LISTEN_FDS"), "\(r.bodyText)")
        server.stop()
    }
}
