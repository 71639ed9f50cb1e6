package com.example;

interface Exprs {
    const int PREC = 1 + 2 * 3;
    const int PARENS = (1 + 2) * 3;
    const int SHIFTS = 1 << 2 + 1;
    const boolean CMP = 1 < 2 == 2 > 1;
    const boolean LOGIC = true || false && false;
    const int BITS = 1 | 2 ^ 3 & 4;
    const int UNARY = -~+1;
    const boolean NOT = !false;
    const int TERNARY = 1 > 2 ? 10 : 2 > 1 ? 20 : 30;
    const int REFS = IFoo.BAR + com.example.Other.BAZ + LOCAL;
    const String CAT = "a" + "b" + NAME;
    const long SUFFIXES = 1l + 2L + 3u8 + 4i8 + 5u32 + 6i32 + 7u64 + 8i64;
    const double FLOATS = .5;
    const float F = 1e3f;
    const char C = ' ';
    const int[] ARR = {1, -2, 3 * 4};
    const int MOD = 7 % 3 - 8 / 2;
    const boolean REL = 1 <= 2 && 3 >= 2 && 1 != 2;
    const int SHR = 256 >> 4;
}
