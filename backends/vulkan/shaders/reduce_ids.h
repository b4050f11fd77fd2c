// Numbers shared by the reduction, scan and sort kernels' C++ side and their
// shaders (plain #defines, so GLSL and C++ both include this file).
#ifndef LUMEN_VULKAN_REDUCE_IDS_H
#define LUMEN_VULKAN_REDUCE_IDS_H

// Threads per workgroup of these kernels (KernelContext::kWorkgroupSize);
// shared-memory arrays are sized by it.
#define REDUCE_WG 256

// How an element folds into an accumulator (Reduce and Scan ops).
#define RED_AND 0
#define RED_OR 1
#define RED_SUM 2
#define RED_PROD 3
#define RED_MIN 4
#define RED_MAX 5
#define RED_LOGADDEXP 6

// How Reduce and ArgReduce spread work: a workgroup per output (segment),
// its threads striding over the reduced elements; or one thread per output
// (segment), for outputs adjacent in memory and for short reductions.
#define SPREAD_GROUP 0
#define SPREAD_THREAD 1

// Sort passes.
#define SORT_BLOCK 0  // sort tiles of lines in shared memory
#define SORT_MERGE 1  // merge pairs of sorted runs
#define SORT_BLOCK_ELEMENTS 2048
// What the last pass writes.
#define SORT_WRITE_VALUES 0
#define SORT_WRITE_INDICES 1
#define SORT_WRITE_PAIRS 2  // (key, index) pairs for the next merge pass

#endif
