package com.example;

oneway interface IOrdered {
    void first() = 10;
    void second(in byte[] data) = 11;
    void third(char c, boolean b, float f, double d) = 2147483647;
}
