#!/usr/bin/env escript
%% make_corpus writes the fuzzer's seed corpus (tests/fuzz/corpus/): one file per term, the raw bytes a
%% real erl's term_to_binary wrote, so every seed is an input OTP itself produces.
%%
%%   escript tests/fuzz/make_corpus.erl [DIR]      (DIR defaults to tests/fuzz/corpus beside this file)
%%
%% It empties DIR's *.etf first, then writes NAME.etf for each term below, and the variants that differ
%% from it: NAME.z.etf (term_to_binary(T, [compressed]), for terms big enough that zlib pays), NAME.v0.etf
%% ([{minor_version, 0}]: FLOAT_EXT's 31-byte text floats) and, for the atom_* terms, NAME.v2.etf
%% ([{minor_version, 2}]: UTF-8 atoms everywhere, as OTP 26 and Myrmex write them). OTP 25's own default is
%% minor_version 1 (NEW_FLOAT_EXT, ATOM_EXT for latin-1 atoms).
%%
%% The legacy_*.etf seeds are older tags OTP 25 still reads but no longer writes (PID_EXT, REFERENCE_EXT,
%% NEW_REFERENCE_EXT, PORT_EXT, SMALL_ATOM_EXT, ...): those bytes are written here by hand, and erl's
%% binary_to_term must accept them (the script stops otherwise). The remote_* seeds are pids, references
%% and ports of another node: made by binary_to_term of such bytes, then written by term_to_binary.
%%
%% Pids, references, ports and local funs name this run's node and creation, so a rerun changes those
%% files' bytes but not their shapes; commit the rerun as a whole.
-module(make_corpus).
-mode(compile).

main(Args) ->
    Dir = case Args of
              [D] -> D;
              [] -> filename:join(filename:dirname(escript:script_name()), "corpus")
          end,
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    [ok = file:delete(F) || F <- filelib:wildcard(filename:join(Dir, "*.etf"))],
    Written = lists:append([variants(Dir, Name, Term) || {Name, Term} <- terms()]) ++
              [write(Dir, Name, check(Bytes)) || {Name, Bytes} <- legacy()],
    io:format("make_corpus: ~b files in ~s~n", [length(Written), Dir]).

%% variants/3 writes the term's default encoding and each variant whose bytes differ from it.
variants(Dir, Name, Term) ->
    Base = term_to_binary(Term),
    Others = [{Suffix, term_to_binary(Term, Options)}
              || {Suffix, Options} <- [{".z", [compressed]}, {".v0", [{minor_version, 0}]}] ++
                                      [{".v2", [{minor_version, 2}]} || lists:prefix("atom_", Name)]],
    [write(Dir, Name, Base) | [write(Dir, Name ++ Suffix, Bytes) || {Suffix, Bytes} <- Others, Bytes =/= Base]].

write(Dir, Name, Bytes) ->
    ok = file:write_file(filename:join(Dir, Name ++ ".etf"), Bytes),
    Name.

%% check/1 is Bytes, once erl has read them back to a term that it writes again the same way it reads.
check(Bytes) ->
    Term = binary_to_term(Bytes),
    Term = binary_to_term(term_to_binary(Term)),
    Bytes.

terms() ->
    % Free variables the compiler cannot fold into the fun's code, so the local fun carries them.
    Env = atom_to_binary(node()),
    N = length(erlang:ports()),
    [{"int_small_255", 255},
     {"int_256", 256},
     {"int_neg1", -1},
     {"int_max32", 2147483647},
     {"int_min32", -2147483648},
     {"big_2p31", 2147483648},
     {"big_max64", 9223372036854775807},
     {"big_2p63", 9223372036854775808},
     {"big_min64", -9223372036854775808},
     {"big_neg_2p64", -18446744073709551616},
     {"big_2p255", 1 bsl 2040},         % 256 magnitude bytes: LARGE_BIG_EXT
     {"big_neg_2p300b", -(1 bsl 2400)},
     {"float_zero", 0.0},
     {"float_neg_zero", -0.0},
     {"float_pi", 3.141592653589793},
     {"float_max", 1.7976931348623157e308},
     {"float_denormal", 5.0e-324},
     {"atom_empty", ''},
     {"atom_ok", ok},
     {"atom_spaces", 'hello world'},
     {"atom_latin1", list_to_atom([$c, $a, $f, 16#e9])},
     {"atom_utf8", list_to_atom([26085, 26412, 35486])},
     {"atom_latin1_255", list_to_atom(lists:duplicate(255, 16#e9))},   % 255 bytes in latin-1
     {"atom_utf8_255", list_to_atom(lists:duplicate(255, 26085))},     % 765 bytes in UTF-8
     {"pid_self", self()},
     {"ref_make_ref", make_ref()},
     {"ref_alias", alias()},
     {"ref_monitor", erlang:monitor(process, self())},
     {"port_first", hd(erlang:ports())},
     {"fun_export", fun lists:sort/1},
     {"fun_local_env", fun(X) -> {X, N, Env} end},
     {"fun_local_noenv", fun() -> ok end},
     {"tuple_empty", {}},
     {"tuple_3", {ok, 42, <<"hello">>}},
     {"tuple_256", list_to_tuple(lists:seq(1, 256))},
     {"tuple_300_atoms", list_to_tuple(lists:duplicate(300, a))},
     {"nil", []},
     {"list_ints", [1000, 2000, -3]},
     {"list_mixed", [a, 1, 2.5, <<"b">>, "c", {d}]},
     {"list_tuples_1000", [{I, ok} || I <- lists:seq(1, 1000)]},
     {"string_hello", "hello"},
     {"string_bytes", lists:seq(0, 255)},
     {"string_unicode", [26085, 26412, $!]},
     {"improper_int", [1 | 2]},
     {"improper_atoms", [a, b | c]},
     {"improper_nested", [[1 | 2] | {3}]},
     {"binary_empty", <<>>},
     {"binary_hello", <<"hello">>},
     {"binary_3000", binary:copy(<<"0123456789">>, 300)},
     {"bits_1", <<1:1>>},
     {"bits_7", <<127:7>>},
     {"bits_19", <<"ab", 5:3>>},
     {"map_empty", #{}},
     {"map_small", #{a => 1, b => 2}},
     {"map_40_keys", maps:from_list([{I, I * I} || I <- lists:seq(1, 40)])},
     {"map_mixed_keys", #{[1] => {}, <<"k">> => 1.0, {t} => #{x => y}, 2 => [], 'é' => "v"}},
     {"nested_reply", {reply, make_ref(), [{ok, #{pid => self(), data => <<"payload">>, n => -7}}]}},
     {"nested_deep", lists:foldl(fun(_, Acc) -> {Acc} end, ok, lists:seq(1, 100))},
     {"nested_list_deep", lists:foldl(fun(_, Acc) -> [Acc] end, [], lists:seq(1, 100))},
     {"nested_everything", {[1.5, 'é', -(1 bsl 70)], #{list => "str", bits => <<3:2>>},
                            fun lists:map/2, [x | y], {}, <<>>, hd(erlang:ports())}},
     {"repetitive_2k", lists:duplicate(200, {hello, <<"world">>})}]
    ++ remote().

%% remote/0 is pids, references and ports of node peer@host, creation 7 (NEW_PID_EXT, NEWER_REFERENCE_EXT,
%% NEW_PORT_EXT and V4_PORT_EXT bytes that term_to_binary then writes again; a port id past 32 bits is
%% V4_PORT_EXT).
remote() ->
    Node = <<100, 0, 9, "peer@host">>,
    Pid = binary_to_term(<<131, 88, Node/binary, 0, 0, 0, 77, 0, 0, 0, 1, 0, 0, 0, 7>>),
    Ref = binary_to_term(<<131, 90, 0, 3, Node/binary, 0, 0, 0, 7, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0>>),
    Port = binary_to_term(<<131, 89, Node/binary, 0, 0, 0, 99, 0, 0, 0, 7>>),
    BigPort = binary_to_term(<<131, 120, Node/binary, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 7>>),
    [{"remote_pid", Pid}, {"remote_ref", Ref}, {"remote_port", Port}, {"remote_port_v4", BigPort},
     {"remote_mix", {Pid, [Ref], #{Port => Pid}}}].

%% legacy/0 is bytes in tags OTP 25 reads but does not write.
legacy() ->
    Node = <<100, 0, 13, "nonode@nohost">>,
    [{"legacy_pid_ext", <<131, 103, Node/binary, 0, 0, 0, 5, 0, 0, 0, 0, 0>>},
     {"legacy_reference_ext", <<131, 101, Node/binary, 0, 0, 0, 9, 0>>},
     {"legacy_new_reference_ext", <<131, 114, 0, 3, Node/binary, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3>>},
     {"legacy_port_ext", <<131, 102, Node/binary, 0, 0, 0, 3, 0>>},
     {"legacy_small_atom_ext", <<131, 115, 2, "ok">>},
     {"legacy_atom_utf8_ext", <<131, 118, 0, 3, 230, 151, 165>>},
     {"legacy_small_big_zero_pad", <<131, 110, 2, 0, 5, 0>>},
     {"legacy_large_tuple_small", <<131, 105, 0, 0, 0, 2, 97, 1, 97, 2>>},
     {"legacy_list_of_bytes", <<131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 106>>},
     {"legacy_float_ext_text", <<131, 99, "1.5", 0:(28 * 8)>>}].
