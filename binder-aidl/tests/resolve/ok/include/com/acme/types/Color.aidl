package com.acme.types;

@Backing(type="int")
enum Color {
    RED = 1,
    GREEN,
    BLUE = Limits.MAX + GREEN,
    WHITE,
}
