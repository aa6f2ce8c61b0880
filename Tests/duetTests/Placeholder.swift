// Placeholder so the package loads: Package.swift declares this test target but the skeleton commit has no files for it.
