import HTTPTypes

/// The router's index: a tree of path segments, so a lookup walks the request path's segments
/// once instead of trying every route.
///
/// The router's rule is kept exactly: of all the routes whose pattern matches, the one added
/// first wins (a literal does not beat an earlier `:name`). So a lookup may follow both a
/// literal child and the `:name` child of a node; each node knows the smallest route number in
/// its subtree, and a branch that cannot hold an earlier route than the best found is skipped,
/// which in the usual app (literals first, or no overlap) means one path down the tree.
///
/// A lookup allocates nothing but the captured values: segments are compared as UTF-8 bytes
/// against the literals, found through a hash of the bytes.
struct RouteTrie {
    /// A route ending at a node: its number (order added), method, and the names of the
    /// values captured on the way (`:name` segments, then `*`).
    struct Endpoint {
        var route: Int
        var method: HTTPRequest.Method
        var names: [String]
    }

    struct Node {
        /// Literal children by the FNV-1a hash of the segment's bytes (collisions share a bucket).
        var literals: [UInt64: [(literal: String, node: Int)]] = [:]
        /// The `:name` child (whatever the name: routes sharing it name their values apart).
        var parameter: Int? = nil
        /// Routes whose pattern ends here.
        var endpoints: [Endpoint] = []
        /// Routes whose pattern ends here with `*` (the rest of the path, possibly empty).
        var rest: [Endpoint] = []
        /// The smallest route number in this subtree.
        var first = Int.max
    }

    /// What a lookup found: the route number, the method it was added for (GET for a HEAD
    /// served by a GET route), and its parameters.
    struct Match {
        var route: Int
        var parameters: RouteParameters
    }

    private(set) var nodes: [Node] = [Node()]

    /// Adds route number `route` (numbers grow with each route added).
    mutating func insert(_ pattern: RoutePattern, method: HTTPRequest.Method, route: Int) {
        var node = 0
        var names: [String] = []
        nodes[0].first = min(nodes[0].first, route)
        for segment in pattern.segments {
            switch segment {
            case .literal(let literal):
                let hash = Self.hash(literal.utf8[...])
                if let child = nodes[node].literals[hash]?.first(where: { $0.literal == literal })?.node {
                    node = child
                } else {
                    nodes.append(Node())
                    nodes[node].literals[hash, default: []].append((literal, nodes.count - 1))
                    node = nodes.count - 1
                }
            case .parameter(let name):
                names.append(name)
                if let child = nodes[node].parameter {
                    node = child
                } else {
                    nodes.append(Node())
                    nodes[node].parameter = nodes.count - 1
                    node = nodes.count - 1
                }
            case .rest:
                names.append("*")
                nodes[node].rest.append(Endpoint(route: route, method: method, names: names))
                return
            }
            nodes[node].first = min(nodes[node].first, route)
        }
        nodes[node].endpoints.append(Endpoint(route: route, method: method, names: names))
    }

    /// The earliest route matching `path` for `method`; for HEAD, the earliest HEAD route, else
    /// the earliest GET route. nil when none.
    func find(_ path: String, method: HTTPRequest.Method) -> Match? {
        var search = Search(method: method)
        var values: [Substring.UTF8View] = []
        walk(0, path.utf8[...], &values, &search)
        return search.exact ?? search.get
    }

    /// Every method some route matching `path` was added for, in the order of those routes.
    func methods(matching path: String) -> [HTTPRequest.Method] {
        var found: [(Int, HTTPRequest.Method)] = []
        collect(0, path.utf8[...], &found)
        var methods: [HTTPRequest.Method] = []
        for (_, method) in found.sorted(by: { $0.0 < $1.0 }) where !methods.contains(method) { methods.append(method) }
        return methods
    }

    // MARK: walking

    private struct Search {
        let method: HTTPRequest.Method
        let isHead: Bool
        var exact: Match? = nil
        var get: Match? = nil

        init(method: HTTPRequest.Method) {
            self.method = method
            self.isHead = method == .head
        }

        /// The route number a branch must beat to be worth walking: an exact match bounds it
        /// (a HEAD request goes on looking for a HEAD route after finding a GET one).
        var bound: Int { exact?.route ?? Int.max }

        mutating func offer(_ endpoints: [Endpoint], _ values: [Substring.UTF8View], extra: Substring.UTF8View? = nil) {
            for endpoint in endpoints {
                if endpoint.method == method {
                    if endpoint.route < (exact?.route ?? Int.max) { exact = Self.match(endpoint, values, extra) }
                } else if isHead && endpoint.method == .get {
                    if endpoint.route < (get?.route ?? Int.max) { get = Self.match(endpoint, values, extra) }
                }
            }
        }

        /// The captured values as strings, made only for a route that matched.
        static func match(_ endpoint: Endpoint, _ values: [Substring.UTF8View], _ extra: Substring.UTF8View?) -> Match {
            var parameters = RouteParameters()
            if !endpoint.names.isEmpty {
                parameters.values.reserveCapacity(endpoint.names.count)
                for (name, value) in zip(endpoint.names, values) { parameters.values.append((name, String(Substring(value)))) }
                if let extra { parameters.values.append(("*", String(Substring(extra)))) }
            }
            return Match(route: endpoint.route, parameters: parameters)
        }
    }

    private func walk(_ index: Int, _ path: Substring.UTF8View, _ values: inout [Substring.UTF8View], _ search: inout Search) {
        // Fields are read in place (no copy of the node, its dictionary and arrays retained).
        guard nodes[index].first < search.bound else { return }
        let rest = Self.dropSlashes(path)
        if !nodes[index].rest.isEmpty { search.offer(nodes[index].rest, values, extra: rest) }
        guard !rest.isEmpty else {
            if !nodes[index].endpoints.isEmpty { search.offer(nodes[index].endpoints, values) }
            return
        }
        let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let segment = rest[..<end]
        let after = rest[end...]
        if !nodes[index].literals.isEmpty, let bucket = nodes[index].literals[Self.hash(segment)] {
            for (literal, child) in bucket where literal.utf8.elementsEqual(segment) {
                walk(child, after, &values, &search)
            }
        }
        if let child = nodes[index].parameter {
            values.append(segment)
            walk(child, after, &values, &search)
            values.removeLast()
        }
    }

    private func collect(_ index: Int, _ path: Substring.UTF8View, _ found: inout [(Int, HTTPRequest.Method)]) {
        let node = nodes[index]
        let rest = Self.dropSlashes(path)
        for endpoint in node.rest { found.append((endpoint.route, endpoint.method)) }
        guard !rest.isEmpty else {
            for endpoint in node.endpoints { found.append((endpoint.route, endpoint.method)) }
            return
        }
        let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let segment = rest[..<end]
        if let bucket = node.literals[Self.hash(segment)] {
            for (literal, child) in bucket where literal.utf8.elementsEqual(segment) { collect(child, rest[end...], &found) }
        }
        if let child = node.parameter { collect(child, rest[end...], &found) }
    }

    private static func dropSlashes(_ path: Substring.UTF8View) -> Substring.UTF8View {
        var start = path.startIndex
        while start < path.endIndex && path[start] == UInt8(ascii: "/") { start = path.index(after: start) }
        return path[start...]
    }

    /// FNV-1a over a segment's bytes: no String is made to look a literal up.
    static func hash(_ bytes: Substring.UTF8View) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
