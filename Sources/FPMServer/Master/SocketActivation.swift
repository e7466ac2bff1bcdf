import FPMConfiguration
import FPMSystem

/// systemd socket activation (sd_listen_fds(3)): the service manager binds the sockets and
/// passes them from descriptor 3 on, naming how many in LISTEN_FDS (for the process LISTEN_PID
/// names) and, optionally, what each is in LISTEN_FDNAMES. A pool whose `listen` address a
/// passed socket is bound to (or that the socket is named after, `FileDescriptorName=`) serves
/// from it instead of binding; the master then restarts without losing a connection.
package enum SocketActivation {
    /// The first descriptor systemd passes (SD_LISTEN_FDS_START).
    package static let firstDescriptor: Int32 = 3
    package static let variables = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"]

    /// One passed descriptor as the matcher sees it.
    package struct Passed: Sendable, Equatable {
        package var fd: Int32
        package var name: String?
        /// What it is bound to; nil when it is no listening stream socket.
        package var address: BoundAddress?

        package init(fd: Int32, name: String?, address: BoundAddress?) {
            self.fd = fd
            self.name = name
            self.address = address
        }
    }

    /// The passed descriptors with their names, or [] when the variables are not for `pid`.
    package static func descriptors(environment: [String: String], pid: Int32) -> [(fd: Int32, name: String?)] {
        guard let listenPID = environment["LISTEN_PID"].flatMap({ Int32($0) }), listenPID == pid,
              let count = environment["LISTEN_FDS"].flatMap({ Int32($0) }), count > 0, count < 4096 else { return [] }
        let names = environment["LISTEN_FDNAMES"].map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) } ?? []
        return (0..<count).map { i in
            let name = Int(i) < names.count && !names[Int(i)].isEmpty ? names[Int(i)] : nil
            return (firstDescriptor + i, name)
        }
    }

    /// Whether a socket bound to `address` is what `listen` asks for. A wildcard `listen`
    /// (a bare port) takes `::` or `0.0.0.0`; `localhost` takes the loopback addresses.
    package static func matches(_ address: BoundAddress, _ listen: ListenAddress) -> Bool {
        switch (address, listen) {
        case (.unix(let bound), .unix(let path)):
            return bound == path
        case (.inet(let bytes, let port), .tcp(let host, let wanted)):
            guard port == wanted else { return false }
            if host.isEmpty { return bytes.allSatisfy { $0 == 0 } }
            if host == "localhost" { return bytes == [127, 0, 0, 1] || bytes == Array(repeating: 0, count: 15) + [1] }
            return Socket.literalBytes(host) == bytes
        default:
            return false
        }
    }

    /// Assigns passed sockets to pools: by name first (a socket named after a pool), then by
    /// address. Returns the descriptor per pool and the sockets no pool takes.
    package static func assign(_ passed: [Passed], pools: [(name: String, listen: ListenAddress)])
        -> (byPool: [String: Int32], unused: [Passed]) {
        var byPool: [String: Int32] = [:]
        var unused: [Passed] = []
        var left = passed.filter { $0.address != nil }
        unused = passed.filter { $0.address == nil }
        for pool in pools {
            if let i = left.firstIndex(where: { $0.name == pool.name }) {
                byPool[pool.name] = left.remove(at: i).fd
            }
        }
        for pool in pools where byPool[pool.name] == nil {
            if let i = left.firstIndex(where: { matches($0.address!, pool.listen) }) {
                byPool[pool.name] = left.remove(at: i).fd
            }
        }
        return (byPool, unused + left)
    }
}

extension Master {
    /// At a first start: takes the sockets systemd passed. A pool's socket becomes an inherited
    /// listener for `openPools` (which then does not bind); the rest are closed with a notice.
    /// The variables are removed so that no worker or exec'd program takes them for its own.
    func adoptActivatedSockets() {
        guard inheritance == nil else { return }
        let environment = Processes.environment()
        let descriptors = SocketActivation.descriptors(environment: environment, pid: pid)
        for name in SocketActivation.variables { Processes.unsetEnvironment(name) }
        guard !descriptors.isEmpty else { return }
        let passed = descriptors.map { d in
            try? FileIO.setCloseOnExec(d.fd, true)
            return SocketActivation.Passed(fd: d.fd, name: d.name,
                                           address: Socket.isListening(d.fd) ? Socket.localAddress(d.fd) : nil)
        }
        let (byPool, unused) = SocketActivation.assign(passed, pools: configuration.pools.map { ($0.name, $0.listen) })
        for pool in configuration.pools {
            guard let fd = byPool[pool.name] else { continue }
            let key = pool.listen.description
            inherited.offer(listener: fd, for: key, activated: true)
            let bound = passed.first { $0.fd == fd }?.address?.description ?? "?"
            log.notice("[pool \(pool.name)] using the socket systemd passed, fd=\(fd) (\(bound))")
        }
        for socket in unused {
            FileIO.close(socket.fd)
            let what = socket.address?.description ?? "not a listening stream socket"
            log.notice("closed the socket systemd passed as fd=\(socket.fd)\(socket.name.map { " (\($0))" } ?? "") that no pool listens on: \(what)")
        }
    }
}
