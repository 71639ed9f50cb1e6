/*
 * A service written for the binder-aidl test corpus.
 */
package com.example;

import com.example.Gadget;
import com.example.IGadgetListener;
import android.os.ParcelFileDescriptor;

/**
 * Hands out gadgets.
 *
 * Second paragraph.
 */
@VintfStability
@Descriptor(value="com.example.IGadgetService")
interface IGadgetService {
    /** How many gadgets fit. */
    const int CAPACITY = 16;
    const long BIG = 1L << 40;
    const @utf8InCpp String NAME = "gadgets";
    @JavaPassthrough(annotation="@Deprecated") const boolean ENABLED = true;

    /** Counts gadgets. */
    int count();

    // A line comment, not documentation.
    @nullable String describe(in Gadget gadget);

    void fill(out Gadget[] gadgets, inout int[] cursor, in @nullable IBinder token);

    oneway void notifyAll(in String message, int times);

    @UnsupportedAppUsage oneway @JavaPassthrough(annotation="@Hide") void legacy();

    List<Gadget> list(in List<String> names);

    Map<String, List<Gadget>> byOwner();

    ParcelFileDescriptor open(in ParcelFileDescriptor fd, long offset);

    void listen(IGadgetListener listener);

    /** A nested enum. */
    @Backing(type="int")
    enum Mode { FAST, SLOW = 5, }

    parcelable Stats {
        int made;
        long sold = 0;
    }

    interface ICallback {
        void done(int status);
    }
}
