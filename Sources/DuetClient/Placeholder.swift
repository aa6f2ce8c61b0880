// Placeholder so the package loads: Package.swift declares DuetClient but the skeleton commit has no sources for it.
