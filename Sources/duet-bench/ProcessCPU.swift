import Foundation

/// CPU seconds (user + system) a process has used so far, all its threads together, from
/// /proc/PID/stat: how the load and forwarding benches charge a server process — the Duet
/// server child or coturn — for its own work and nothing of the generator's.
enum ProcessCPU {
    static func seconds(of pid: Int32) -> Double {
        guard let stat = LoadSample.procFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, proc(5)).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
