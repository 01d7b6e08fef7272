%% Savina's dining philosophers (Imam & Sarkar, AGERE 2014: "philosopher"), the twin of
%% bench/programs/philosophers.cpp. N philosophers sit at a round table with a fork between each two; an
%% arbitrator, a gen_server, owns the forks. A hungry philosopher asks it for both its forks (a call: eat
%% or denied); when either is in use the answer is denied and it asks again at once. After its meal it
%% gives both back (a cast). Each eats M times. Savina's sizes: N=20 philosophers, M=10,000 rounds.
%%
%% Verified: every philosopher ate M times, by its own count and by the arbitrator's, and no two
%% neighbours ate at once. For the last, outside the actor model, a philosopher raises a flag (atomics)
%% while it eats and looks at its neighbours' flags just after raising its own and just before lowering
%% it (so two overlapping meals cannot both miss each other). As in Savina a meal takes no time, so only
%% philosophers on different schedulers can overlap: with one scheduler this check cannot fail.
%%
%% once/1 takes the values of spec/0 in order, runs the program once and returns ok, or fails with
%% erlang:error/1 on a wrong result:
%%   erlc -o DIR bench/programs/savina_philosophers.erl
%%   erl -noshell +S 2:2 -pa DIR -eval 'ok = savina_philosophers:once([20, 10000, 2, 3]), halt().'
-module(savina_philosophers).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

%% What a philosopher knows: its arbitrator, its seat (0-based), the table's size and the flags.
-record(seat, {arbitrator :: pid(), seat :: non_neg_integer(), n :: pos_integer(),
               flags :: atomics:atomics_ref()}).
%% The arbitrator's state: fork I+1 lies left of seat I, fork (I+1) rem N + 1 right of it.
-record(forks, {in_use :: tuple(), meals :: tuple()}).

spec() -> [{"n", 20}, {"m", 10000}, {"schedulers", default}, {"reps", 3}].

once([N, M | _]) ->
    {ok, Arbitrator} = gen_server:start_link(?MODULE, N, []),
    Flags = atomics:new(N, []),
    Program = self(),
    Seats = lists:seq(0, N - 1),
    [spawn_link(fun() ->
                    philosopher(#seat{arbitrator = Arbitrator, seat = Seat, n = N, flags = Flags}, M, Program)
                end)
     || Seat <- Seats],
    Reports = [receive {full, Seat, Meals, Clash} -> {Seat, Meals, Clash} end || Seat <- Seats],
    Granted = tuple_to_list(gen_server:call(Arbitrator, meals)),
    ok = gen_server:stop(Arbitrator),
    [erlang:error({wrong_meals, Seat, Meals, Arb, M})
     || {{Seat, Meals, _}, Arb} <- lists:zip(Reports, Granted), Meals =/= M orelse Arb =/= M],
    lists:any(fun({_, _, Clash}) -> Clash end, Reports) andalso erlang:error(neighbours_ate_at_once),
    ok.

%%% A philosopher

philosopher(Seat, Rounds, Program) ->
    dine(Seat, Rounds, 0, false, Program).

dine(#seat{seat = Seat}, Rounds, Rounds, Clash, Program) ->
    Program ! {full, Seat, Rounds, Clash};
dine(S = #seat{arbitrator = Arbitrator, seat = Seat}, Rounds, Meals, Clash, Program) ->
    case gen_server:call(Arbitrator, {hungry, Seat}) of
        denied ->
            dine(S, Rounds, Meals, Clash, Program);
        eat ->
            Clashed = eat(S),
            gen_server:cast(Arbitrator, {done, Seat}),
            dine(S, Rounds, Meals + 1, Clash orelse Clashed, Program)
    end.

%% eat/1 is true if a neighbour was eating too.
eat(S = #seat{seat = Seat, flags = Flags}) ->
    atomics:put(Flags, Seat + 1, 1),
    Before = neighbour_eating(S),
    %% The meal takes no time, as in Savina.
    After = neighbour_eating(S),
    atomics:put(Flags, Seat + 1, 0),
    Before orelse After.

neighbour_eating(#seat{seat = Seat, n = N, flags = Flags}) ->
    Eating = fun(Other) -> Other =/= Seat andalso atomics:get(Flags, Other + 1) =/= 0 end,
    Eating((Seat + N - 1) rem N) orelse Eating((Seat + 1) rem N).

%%% The arbitrator

init(N) ->
    {ok, #forks{in_use = erlang:make_tuple(N, false), meals = erlang:make_tuple(N, 0)}}.

handle_call({hungry, Seat}, _From, F = #forks{in_use = InUse, meals = Meals}) ->
    Left = Seat + 1,
    Right = (Seat + 1) rem tuple_size(InUse) + 1,
    case element(Left, InUse) orelse element(Right, InUse) of
        true ->
            {reply, denied, F};
        false ->
            Taken = setelement(Right, setelement(Left, InUse, true), true),
            {reply, eat, F#forks{in_use = Taken, meals = setelement(Left, Meals, element(Left, Meals) + 1)}}
    end;
handle_call(meals, _From, F) ->
    {reply, F#forks.meals, F}.

handle_cast({done, Seat}, F = #forks{in_use = InUse}) ->
    Left = Seat + 1,
    Right = (Seat + 1) rem tuple_size(InUse) + 1,
    {noreply, F#forks{in_use = setelement(Right, setelement(Left, InUse, false), false)}}.
