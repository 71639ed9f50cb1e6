package com.acme.types;

parcelable Unused { int x; }
