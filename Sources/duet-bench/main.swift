// `make bench`: one figure a line, `name value unit`. Ratios are measured in the same run.
OpusBench.run()
