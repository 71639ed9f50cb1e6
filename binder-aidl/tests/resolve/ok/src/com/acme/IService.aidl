package com.acme;

import com.acme.types.Color;
import com.acme.types.Shape.Kind;
import android.os.ParcelFileDescriptor;

interface IService {
    const int DEFAULT_COLOR = Color.GREEN;
    const long LIMIT = com.acme.types.Limits.MAX * 2L;
    const int LOCAL = DEFAULT_COLOR + 1;

    Color paint(in com.acme.types.Point at, Kind kind);
    Status state();
    void fill(out Job job, inout Color[] colors, in List<Job.Step> steps);
    ParcelFileDescriptor open(in ParcelFileDescriptor fd);
    void watch(IListener listener, in Map<String, IBinder> binders);

    parcelable Job {
        Step first;
        Kind kind = Kind.SQUARE;
        int priority = LOCAL;
        parcelable Step { int n = IService.LOCAL; }
    }

    interface IListener {
        oneway void changed(in Job job);
    }
}
