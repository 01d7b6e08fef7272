%% Savina's N-queens, first K solutions (Imam & Sarkar, AGERE 2014: "nqueenk"), the twin of
%% bench/programs/nqueenk.cpp: a master gen_server hands out partial boards round robin to W worker
%% gen_servers. A worker given a board of fewer than THRESHOLD queens sends each valid board with one
%% more queen back to the master to hand out; from THRESHOLD queens on it searches the rest itself. It
%% sends the master each solution it finds, then done. Once the master has K solutions it hands out
%% nothing more; when every board it handed out is done it stops the workers and answers the program's
%% call with the solutions. Savina's sizes: N=12, THRESHOLD=4, W=20 workers; K=1,500 here (Savina's code
%% says 1,500,000, more than the 14,200 solutions of N=12, so it finds all). Savina gives deeper boards a
%% higher message priority; this program ignores priorities, as does the C++ twin. How much is searched
%% past the K-th solution depends on the scheduling: every board handed out before it is still searched,
%% and with these sizes that can be all of them (then K does not cut the work at all).
%%
%% Verified: at least K solutions came back (all of them, when N has fewer), no more than N has, and each
%% one is a valid placement of N queens, no two the same.
%%
%% once/1 takes the values of spec/0 in order, runs the program once and returns ok, or fails with
%% erlang:error/1 on a wrong result:
%%   erlc -o DIR bench/programs/savina_nqueenk.erl
%%   erl -noshell +S 2:2 -pa DIR -eval 'ok = savina_nqueenk:once([12, 1500, 4, 20, 2, 3]), halt().'
-module(savina_nqueenk).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(PATIENCE, 300000).
%% How many ways there are to place N queens, for N = 1 .. 16.
-define(SOLUTIONS, {1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2680, 14200, 73712, 365596, 2279184, 14772512}).

%% A board is the list of its queens' rows, the last column's first.
-record(master, {n, k, threshold, worker_count, workers = {}, next_worker = 1, handed_out = 0, done = 0,
                 found = 0, solutions = [], asker}).
-record(worker, {master :: pid(), n :: pos_integer(), threshold :: pos_integer(),
                 rows :: [non_neg_integer()]}).  % 0 .. n-1

spec() -> [{"n", 12}, {"k", 1500}, {"threshold", 4}, {"workers", 20}, {"schedulers", default}, {"reps", 3}].

once([N, K, Threshold, Workers | _]) when N >= 1, N =< tuple_size(?SOLUTIONS) ->
    {ok, Master} = gen_server:start_link(?MODULE, {master, N, K, Threshold, Workers}, []),
    Found = gen_server:call(Master, solve, ?PATIENCE),
    All = element(N, ?SOLUTIONS),
    Least = min(K, All),
    Got = length(Found),
    Got >= Least andalso Got =< All orelse erlang:error({solutions, Got, expected, Least, 'to', All}),
    lists:all(fun(Board) -> valid(Board, N) end, Found) orelse erlang:error(invalid_solution),
    length(lists:usort(Found)) =:= Got orelse erlang:error(solution_came_twice),
    ok.

%% fits/2 says whether a queen in the next column, at row R, is safe from all the others.
fits(R, Board) -> fits(R, Board, 1).

fits(R, [Q | Board], Distance) ->
    Q =/= R andalso abs(Q - R) =/= Distance andalso fits(R, Board, Distance + 1);
fits(_, [], _) ->
    true.

%% valid/2 checks a full board queen pair by queen pair, apart from the search's fits/2.
valid(Board, N) ->
    length(Board) =:= N andalso lists:all(fun(R) -> R >= 0 andalso R < N end, Board)
        andalso no_attacks(Board).

no_attacks([]) ->
    true;
no_attacks([Q | Others]) ->
    Attacked = [R || {Distance, R} <- lists:zip(lists:seq(1, length(Others)), Others),
                     R =:= Q orelse abs(R - Q) =:= Distance],
    Attacked =:= [] andalso no_attacks(Others).

%%% The master and the workers

init({master, N, K, Threshold, Workers}) ->
    {ok, #master{n = N, k = K, threshold = Threshold, worker_count = Workers}};
init({worker, Master, N, Threshold}) ->
    {ok, #worker{master = Master, n = N, threshold = Threshold, rows = lists:seq(0, N - 1)}}.

handle_call(solve, From, M = #master{n = N, threshold = Threshold, worker_count = Count}) ->
    Workers = [begin
                   {ok, W} = gen_server:start_link(?MODULE, {worker, self(), N, Threshold}, []),
                   W
               end
               || _ <- lists:seq(1, Count)],
    {noreply, hand_out([], 0, M#master{workers = list_to_tuple(Workers), asker = From})}.

handle_cast({work, Board, Depth}, M = #master{found = Found, k = K}) when Found < K ->
    {noreply, hand_out(Board, Depth, M)};
handle_cast({work, _Board, _Depth}, M = #master{}) ->
    {noreply, M};
handle_cast({solution, Board}, M = #master{found = Found, solutions = Solutions}) ->
    {noreply, M#master{found = Found + 1, solutions = [Board | Solutions]}};
handle_cast(done, M = #master{done = Done, handed_out = HandedOut}) when Done + 1 < HandedOut ->
    {noreply, M#master{done = Done + 1}};
handle_cast(done, M = #master{workers = Workers, asker = Asker, solutions = Solutions}) ->
    [ok = gen_server:stop(W) || W <- tuple_to_list(Workers)],
    gen_server:reply(Asker, Solutions),
    {stop, normal, M};
handle_cast({work, Board, Depth}, W = #worker{master = Master, n = N, threshold = Threshold})
  when Depth >= Threshold; Depth =:= N ->
    search(Board, Depth, W),
    gen_server:cast(Master, done),
    {noreply, W};
handle_cast({work, Board, Depth}, W = #worker{master = Master, rows = Rows}) ->
    [gen_server:cast(Master, {work, [R | Board], Depth + 1}) || R <- Rows, fits(R, Board)],
    gen_server:cast(Master, done),
    {noreply, W}.

hand_out(Board, Depth, M = #master{workers = Workers, next_worker = Next, handed_out = HandedOut}) ->
    gen_server:cast(element(Next, Workers), {work, Board, Depth}),
    M#master{next_worker = Next rem tuple_size(Workers) + 1, handed_out = HandedOut + 1}.

search(Board, N, #worker{master = Master, n = N}) ->
    gen_server:cast(Master, {solution, Board});
search(Board, Depth, W = #worker{rows = Rows}) ->
    [search([R | Board], Depth + 1, W) || R <- Rows, fits(R, Board)],
    ok.
