module myrmex/bench/go

go 1.19
