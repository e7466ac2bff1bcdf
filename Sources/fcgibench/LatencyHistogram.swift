/// Latencies of one run, in nanoseconds: exact percentiles from the sorted samples (a run
/// keeps at most a few million), and a log-scale histogram to print.
struct LatencyHistogram {
    private(set) var samples: [Int] = []

    mutating func add(_ nanos: Int) { samples.append(nanos) }
    mutating func merge(_ other: LatencyHistogram) { samples.append(contentsOf: other.samples) }

    var count: Int { samples.count }

    /// The `p`-th percentile (0...100) by nearest rank; 0 when there are no samples.
    func percentile(_ p: Double, sorted: [Int]) -> Int {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    struct Summary: Equatable {
        var p50: Int, p90: Int, p99: Int, max: Int, mean: Int
    }

    func summary() -> Summary {
        let sorted = samples.sorted()
        let mean = sorted.isEmpty ? 0 : sorted.reduce(0, +) / sorted.count
        return Summary(p50: percentile(50, sorted: sorted), p90: percentile(90, sorted: sorted),
                       p99: percentile(99, sorted: sorted), max: sorted.last ?? 0, mean: mean)
    }

    /// Buckets doubling from 16 µs: (upper bound in ns, count), empty leading/trailing ones dropped.
    func buckets() -> [(upTo: Int, count: Int)] {
        var bounds: [Int] = []
        var b = 16_000
        while b < 64_000_000_000 { bounds.append(b); b *= 2 }
        var counts = [Int](repeating: 0, count: bounds.count + 1)
        for s in samples {
            var i = 0
            while i < bounds.count && s > bounds[i] { i += 1 }
            counts[i] += 1
        }
        var rows: [(Int, Int)] = []
        for (i, c) in counts.enumerated() { rows.append((i < bounds.count ? bounds[i] : Int.max, c)) }
        guard let first = rows.firstIndex(where: { $0.1 > 0 }), let last = rows.lastIndex(where: { $0.1 > 0 }) else { return [] }
        return Array(rows[first...last])
    }

    /// "123µs", "4.56ms", "1.20s".
    static func format(_ nanos: Int) -> String {
        if nanos == Int.max { return "inf" }
        if nanos < 1_000_000 { return "\(nanos / 1000)µs" }
        if nanos < 1_000_000_000 { return fixed(Double(nanos) / 1e6) + "ms" }
        return fixed(Double(nanos) / 1e9) + "s"
    }

    static func fixed(_ v: Double) -> String {
        let hundredths = Int((v * 100).rounded())
        let frac = hundredths % 100
        return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
    }
}
