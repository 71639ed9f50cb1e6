package com.example;

/** Colors. */
@Backing(type="byte")
enum Color {
    /** The first. */
    RED = 1,
    GREEN,
    BLUE = RED + 10,
    ALL = RED | GREEN | BLUE,
    WHITE = 0xFFu8,
}
