/// Where benches write their figures: one `name value unit` line each, the format
/// `make bench` output and any script reading it rely on.
struct BenchReport: Sendable {
    func figure(_ name: String, _ value: Double, unit: String) {
        let text = unit == "ratio" ? String(format: "%.3f", value) : String(format: "%.1f", value)
        print("\(name) \(text) \(unit)")
    }
}
