%% Savina's Banking (bank transactions, request/reply), the Erlang side of bench/programs/banking.cpp. A
%% teller (the process running once/1) casts N transfers to A account gen_servers. The source account
%% debits itself, calls the destination to credit the amount and waits for its answer, then acknowledges
%% the transfer to the teller. Sources are drawn from the first 80% of the accounts and destinations above
%% them, so a chain of accounts waiting on each other always ends. Savina sizes: A = 1000 accounts,
%% N = 50000 transactions.
%%
%% Verifies: every transfer acknowledged exactly once, each final balance equal to a sequential replay of
%% the same transfers, and the total balance conserved. Amounts are integers, so the sums are exact.
-module(savina_banking).
-behaviour(gen_server).

-export([spec/0, once/1]).
-export([init/1, handle_call/3, handle_cast/2]).

-define(INITIAL_BALANCE, 1000000000).

spec() ->
    [{"accounts", 1000}, {"transactions", 50000}, {"schedulers", default}, {"reps", 3}].

once([Accounts, N, _Schedulers, _Reps]) when Accounts >= 10 ->
    Patience = savina_common:patience(),
    Account = list_to_tuple([start_account() || _ <- lists:seq(1, Accounts)]),
    Work = transactions(Accounts, N),
    Teller = self(),
    lists:foldl(fun({From, To, Amount}, Id) ->
                        gen_server:cast(element(From + 1, Account),
                                        {transfer, Id, element(To + 1, Account), Amount, Teller}),
                        Id + 1
                end, 0, Work),
    acknowledge(N, #{}, Patience),
    Expected = replay(Accounts, Work),
    Balances = [gen_server:call(Pid, balance, Patience) || Pid <- tuple_to_list(Account)],
    Balances =:= Expected orelse savina_common:fail("banking: an account has the wrong balance"),
    lists:sum(Balances) =:= ?INITIAL_BALANCE * Accounts
        orelse savina_common:fail("banking: the total balance changed"),
    [ok = gen_server:stop(Pid) || Pid <- tuple_to_list(Account)],
    ok.

start_account() ->
    {ok, Pid} = gen_server:start_link(?MODULE, ?INITIAL_BALANCE, []),
    Pid.

%% transactions/2 draws Savina's transfers, [{From, To, Amount}]: a source in the first 80% of the
%% accounts, a destination above it, an amount below 1000.
transactions(Accounts, N) ->
    transactions(Accounts, N, savina_common:random(123456), []).

transactions(_Accounts, 0, _Random, Acc) ->
    lists:reverse(Acc);
transactions(Accounts, K, R0, Acc) ->
    {From, R1} = savina_common:next_int(Accounts div 10 * 8, R0),
    {Step, R2} = savina_common:next_int(Accounts - From, R1),
    {Amount, R3} = savina_common:next_int(1000, R2),
    transactions(Accounts, K - 1, R3, [{From, From + max(Step, 1), Amount} | Acc]).

%% acknowledge/3 takes Left acknowledgements, each id once.
acknowledge(0, _Seen, _Patience) ->
    ok;
acknowledge(Left, Seen, Patience) ->
    receive
        {acknowledged, Id} when is_map_key(Id, Seen) ->
            savina_common:fail("banking: a transfer acknowledged twice");
        {acknowledged, Id} ->
            acknowledge(Left - 1, Seen#{Id => true}, Patience)
    after Patience ->
        savina_common:fail("banking: transfers unacknowledged")
    end.

%% replay/2 is every account's final balance, in order, from applying the transfers one by one.
replay(Accounts, Work) ->
    Initial = maps:from_list([{I, ?INITIAL_BALANCE} || I <- lists:seq(0, Accounts - 1)]),
    Final = lists:foldl(fun({From, To, Amount}, B) ->
                                B#{From := maps:get(From, B) - Amount, To := maps:get(To, B) + Amount}
                        end, Initial, Work),
    [maps:get(I, Final) || I <- lists:seq(0, Accounts - 1)].

%%% The account: its state is its balance.

init(Balance) ->
    {ok, Balance}.

handle_call({credit, Amount}, _From, Balance) ->
    {reply, ok, Balance + Amount};
handle_call(balance, _From, Balance) ->
    {reply, Balance, Balance}.

handle_cast({transfer, Id, Destination, Amount, Teller}, Balance) ->
    ok = gen_server:call(Destination, {credit, Amount}, savina_common:patience()),
    Teller ! {acknowledged, Id},
    {noreply, Balance - Amount}.
