"""A quantity's identity and its one typesetting: symbols are their Quantity, whatever they print as."""
import pickle

import sympy

from derive import models
from derive.quantity import (LatexSymbol, Quantity, QuantitySymbol, name_of_key, notation_key, quantity_of, retime,
                             sorted_symbols, symbols_of, typeset)


def test_a_symbol_is_its_quantity():
    a = QuantitySymbol(Quantity("c", -1))
    assert a == QuantitySymbol(Quantity("c", -1)) and hash(a) == hash(QuantitySymbol(Quantity("c", -1)))
    assert a != QuantitySymbol(Quantity("c", -1, absolute=True))
    assert quantity_of(a) == Quantity("c", -1) and quantity_of(sympy.Symbol("c")) is None


def test_same_print_different_quantities_stay_apart():
    step = QuantitySymbol(Quantity("z", 1, absolute=True))
    layer = QuantitySymbol(Quantity("z_1"))  # the blog's first layer, time-free
    assert str(step) == str(layer) == "z_{1}" and step != layer
    assert sympy.expand(step - layer) != 0


def test_typesetting_is_one_function():
    assert typeset(Quantity("c_tilde", 0)) == r"\tilde{c}_{t}"
    assert typeset(Quantity("z_f", -1)) == "z_{f,t-1}"
    assert typeset(Quantity("W_rec")) == r"W_{\mathrm{rec}}"
    assert typeset(Quantity("W_fh", index=(1, 2))) == "W_{fh,12}"
    assert typeset(Quantity("W_fh", index=(1, 12))) == "W_{fh,1,12}"
    assert typeset(Quantity("c", 3, absolute=True, index=(2,), adjoint=True)) == r"\delta c_{3,2}"
    assert sympy.latex(QuantitySymbol(Quantity("o_bar", 1))) == r"\bar{o}_{t+1}"


def test_symbols_pickle_and_keep_their_identity():
    symbol = QuantitySymbol(Quantity("h", 2, True, (1,), True))
    again = pickle.loads(pickle.dumps(symbol))
    assert again == symbol and quantity_of(again) == quantity_of(symbol)
    slope = LatexSymbol(r"\frac{\partial E}{\partial h}")
    assert pickle.loads(pickle.dumps(slope)) == slope and sympy.latex(slope) == r"\frac{\partial E}{\partial h}"


def test_retime_moves_relative_times_and_makes_them_absolute():
    lstm = models.lstm_forget()
    expr = lstm.sym.f * lstm.sym.c_prev + lstm.sym.W_fh
    assert retime(expr, 1) == lstm.at(1).f * lstm.at(1).c_prev + lstm.sym.W_fh
    assert retime(expr, absolute_base=5) == lstm.at(5, absolute=True).f * lstm.at(4, absolute=True).c + lstm.sym.W_fh


def test_matrices_of_symbols_and_deterministic_order():
    matrix = symbols_of("W_fh", None, (2, 2))
    assert [quantity_of(s).index for s in matrix] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    column = symbols_of("c", 0, (2, 1))
    assert [quantity_of(s).index for s in column] == [(1,), (2,)]
    symbols = {QuantitySymbol(Quantity("z", 1, absolute=True)), QuantitySymbol(Quantity("z_1"))}
    assert sorted_symbols(symbols) == sorted_symbols(list(reversed(sorted_symbols(symbols))))


def test_decorated_names_are_one_rule_both_ways():
    for name, key in (("c_tilde", r"\tilde{c}"), ("h_tilde", r"\tilde{h}"), ("x_hat", r"\hat{x}"),
                      ("z_bar", r"\bar{z}"), ("i_bar", r"\bar{\imath}"), ("W_rec", "W_rec"), ("b_hn", "b_hn")):
        assert notation_key(name) == key and name_of_key(key) == name
    assert typeset(Quantity("h_tilde", -1)) == r"\tilde{h}_{t-1}" and typeset(Quantity("x_hat")) == r"\hat{x}"
    assert name_of_key(r"\alpha") is None and name_of_key(r"\tilde{h}_f") is None
