import Foundation

/// Writes one event line to standard output at once (unbuffered), so a script or test that
/// follows `duet call`/`duet answer`/`duet bot` sees each event when it happens.
func printEventLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
