import DuetTUI

/// Reading a rendered screen the way the tests need it: per column, with each column's style.
extension ScreenLine {
    /// One entry per column.
    var columns: [(character: Character, style: TextStyle)] {
        runs.flatMap { run in run.text.map { ($0, run.style) } }
    }

    /// The styles of every column where `word` appears in this line.
    func styles(of word: String) -> [[TextStyle]] {
        let columns = self.columns
        let characters = columns.map(\.character)
        let target = Array(word)
        guard characters.count >= target.count else { return [] }
        return (0...(characters.count - target.count)).compactMap { start in
            Array(characters[start..<(start + target.count)]) == target
                ? columns[start..<(start + target.count)].map(\.style) : nil
        }
    }
}

extension ScreenModel {
    var joinedText: String { text.joined(separator: "\n") }
}
