import Foundation
import Testing

/// A small network of Linux network namespaces for the multi-host suite: a bridge in the
/// test's own namespace (10.231.S.1/24, where the front ends run) and one namespace per host,
/// each joined to the bridge by a veth pair, with an address of its own (10.231.S.N/24).
///
/// Every name carries the test process's pid (`fmh<pid hex>`: the namespaces
/// `fmh…-NAME`, the bridge `fmh…b`, the veths `fmh…vN`/`fmh…pN`), so runs never share
/// one; `remove()` (also on deinit) deletes all of it, and a new network first deletes what a
/// run whose process is gone left behind (a crash skips deinit). The subnet's third octet is
/// chosen among those no interface uses.
final class TestNetwork {
    static let ipPath = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Why namespaces cannot be made here, or nil when they can. The suite fails with this
    /// (it must not pass without having run).
    static var missing: String? {
        guard let _ = ipPath else { return "`ip` (iproute2) is not installed: `make test-multihost` installs it" }
        guard getuid() == 0 else { return "network namespaces need root (uid \(getuid())): run the multi-host suite as root, as CI does" }
        return nil
    }

    let tag: String
    /// The third octet: addresses are 10.231.`subnet`.N.
    let subnet: Int
    var bridge: String { tag + "b" }
    /// The front ends' address (on the bridge, in the test's namespace).
    var gateway: String { "10.231.\(subnet).1" }
    private(set) var namespaces: [String] = []
    private var removed = false

    init() throws {
        if let missing = TestNetwork.missing { throw FPMServer.ServerError(missing) }
        TestNetwork.removeLeftovers()
        tag = "fmh" + String(format: "%06x", Int(getpid()))
        TestNetwork.removeNetwork(tag: tag)
        let used = try TestNetwork.ip(["-4", "-o", "addr", "show"]).stdout
        let base = Int(getpid()) % 200 + 20
        guard let free = (0..<200).map({ (base + $0) % 230 + 20 }).first(where: { !used.contains("10.231.\($0).") }) else {
            throw FPMServer.ServerError("no free 10.231.x.0/24 subnet")
        }
        subnet = free
        try TestNetwork.ip(["link", "add", bridge, "type", "bridge"], check: true)
        try TestNetwork.ip(["addr", "add", gateway + "/24", "dev", bridge], check: true)
        try TestNetwork.ip(["link", "set", bridge, "up"], check: true)
    }

    /// Adds host `index` (2…254): namespace `tag-name`, address 10.231.S.`index`; returns the
    /// namespace's name and the address.
    func addHost(_ name: String, index: Int) throws -> (namespace: String, address: String) {
        let ns = "\(tag)-\(name)"
        let outside = "\(tag)v\(index)", inside = "\(tag)p\(index)"
        let address = "10.231.\(subnet).\(index)"
        try TestNetwork.ip(["netns", "add", ns], check: true)
        namespaces.append(ns)
        try TestNetwork.ip(["link", "add", outside, "type", "veth", "peer", "name", inside], check: true)
        try TestNetwork.ip(["link", "set", inside, "netns", ns], check: true)
        try TestNetwork.ip(["link", "set", outside, "master", bridge], check: true)
        try TestNetwork.ip(["link", "set", outside, "up"], check: true)
        try TestNetwork.ip(["-n", ns, "addr", "add", address + "/24", "dev", inside], check: true)
        try TestNetwork.ip(["-n", ns, "link", "set", inside, "up"], check: true)
        try TestNetwork.ip(["-n", ns, "link", "set", "lo", "up"], check: true)
        return (ns, address)
    }

    /// Starts `executable` inside namespace `ns` (`ip netns exec` execs it: the pid is the
    /// program's own), with the default signal mask (see `withDefaultSignalMask`).
    func spawn(in ns: String, _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
               directory: String) throws -> ChildProcess {
        try withDefaultSignalMask {
            try ChildProcess(TestNetwork.ipPath!, ["netns", "exec", ns, executable] + arguments, environment: environment,
                             directory: directory)
        }
    }

    /// Runs a command inside `ns` to completion.
    func run(in ns: String, _ executable: String, _ arguments: [String], timeout: Double = 30) throws
        -> (status: Int32, stdout: String, stderr: String) {
        try runCommand(TestNetwork.ipPath!, ["netns", "exec", ns, executable] + arguments, timeout: timeout)
    }

    /// The pids of every process in `ns` (`ip netns pids`): a host's whole set of processes.
    func pids(in ns: String) -> [Int32] {
        ((try? TestNetwork.ip(["netns", "pids", ns]).stdout) ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// Kills what still runs in the namespaces (processes this run started there), then deletes
    /// the namespaces (their veth ends go with them) and the bridge.
    func remove() {
        guard !removed else { return }
        removed = true
        for ns in namespaces {
            for pid in pids(in: ns) { kill(pid, SIGKILL) }
        }
        TestNetwork.removeNetwork(tag: tag)
    }

    deinit { remove() }

    /// Deletes the namespaces and bridge named with `tag`.
    static func removeNetwork(tag: String) {
        let listed = ((try? ip(["netns", "list"]).stdout) ?? "").split(separator: "\n")
        for line in listed {
            let name = String(line.split(separator: " ")[0])
            guard name.hasPrefix(tag + "-") else { continue }
            _ = try? ip(["netns", "del", name])
        }
        let links = ((try? ip(["-o", "link", "show"]).stdout) ?? "")
        for word in links.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "@" }) where word.hasPrefix(tag) {
            _ = try? ip(["link", "del", String(word)])
        }
    }

    /// Removes the networks of earlier runs whose test process no longer exists.
    static func removeLeftovers() {
        let listed = ((try? ip(["netns", "list"]).stdout) ?? "") + ((try? ip(["-o", "link", "show"]).stdout) ?? "")
        var tags = Set<String>()
        for word in listed.split(whereSeparator: { " :@-\n".contains($0) }) where word.hasPrefix("fmh") && word.count >= 9 {
            tags.insert(String(word.prefix(9)))
        }
        for tag in tags {
            guard let pid = Int32(tag.dropFirst(3), radix: 16), !TestSupport.isAlive(pid) else { continue }
            removeNetwork(tag: tag)
        }
    }

    @discardableResult
    static func ip(_ arguments: [String], check: Bool = false) throws -> (status: Int32, stdout: String, stderr: String) {
        let r = try runCommand(ipPath!, arguments, timeout: 10)
        if check && r.status != 0 {
            throw FPMServer.ServerError("ip \(arguments.joined(separator: " ")) failed (\(r.status)): \(r.stderr)")
        }
        return r
    }
}
