%% What the Erlang side of the Savina programs (bench/programs/savina_*.erl) shares, the same as
%% bench/programs/common.h on the C++ side: the Park-Miller generator and Savina's busy work, so both
%% sides draw the same numbers and do the same work; how long a program waits before it calls a missing
%% answer a failure; and fail/1. bench/erlang/myrmex_bench.erl runs and times the programs.
-module(savina_common).

-export([random/1, next/1, next_int/2, next_double/1, busy_work/2, patience/0, fail/1]).

-define(MODULUS, 2147483647).

%% random/1 is a generator state from a seed (taken mod 2^31 - 1; 0, which it never leaves, becomes 1).
%% The state is the last number drawn: x <- 48271 x mod (2^31 - 1), Park and Miller's "minimal standard".
random(Seed) ->
    case Seed rem ?MODULUS of
        X when X =< 0 -> X + ?MODULUS - 1;
        X -> X
    end.

%% next/1 is {the next number in 1 .. 2^31 - 2, the new state}.
next(X) ->
    Y = X * 48271 rem ?MODULUS,
    {Y, Y}.

%% next_int/2 is {the next number in 0 .. Bound - 1, the new state}.
next_int(Bound, X) ->
    {Y, X1} = next(X),
    {Y rem Bound, X1}.

%% next_double/2 is {the next number in (0, 1), the new state}.
next_double(X) ->
    {Y, X1} = next(X),
    {Y / ?MODULUS, X1}.

%% busy_work/2 is Savina's processItem: X plus 100 * Cost logarithms of numbers from a generator seeded
%% with Cost (one logarithm when Cost is 0), a fixed amount of floating-point work per item.
busy_work(X, Cost) when Cost > 0 -> busy_work(X, random(Cost), 100 * Cost);
busy_work(X, Cost) -> busy_work(X, random(Cost), 1).

busy_work(X, _Random, 0) ->
    X;
busy_work(X, Random, Steps) ->
    {U, Random1} = next_double(Random),
    busy_work(X + math:log(U + 0.01), Random1, Steps - 1).

%% patience/0 bounds every wait of a program, in ms (a call, a receive): no answer in that long is a
%% failure (a lost message, a hang), not a slow run. The C++ side waits as long (savina::kPatience).
patience() ->
    60000.

%% fail/1 ends the calling process: the program's result is wrong. Its processes are linked to the one
%% running once/1, so a failure anywhere ends the run, and myrmex_bench reports it and exits 1.
fail(What) ->
    erlang:error({savina_wrong_result, What}).
