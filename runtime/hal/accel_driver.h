/*===- accel_driver.h - the driver plugin ABI ---------------------*- C -*-===*
 *
 * A device driver that is not built into accel is a shared library,
 * libaccel_driver_<NAME>.so, exporting one C function, accel_driver_entry,
 * which returns a table of the functions below. `accel-run --device NAME`
 * finds the library on the driver search path (docs/devices.md), loads it
 * with dlopen, and refuses it unless its table has this header's
 * ACCEL_DRIVER_ABI_VERSION. Plain C, so a driver can be built by any
 * compiler against this header alone.
 *
 * The host hands a driver whole programs as program files (the bytes
 * `accel-opt --accel-lower` writes; runtime/io/ProgramFile.fbs): the
 * driver reads them however it likes (runtime/io/ProgramFile.h parses
 * them for C++ drivers).
 *
 * Conventions: functions returning int return 0 on success; on failure
 * they write a NUL-terminated message to error->message (truncated to fit)
 * and return nonzero. Every object a function creates is destroyed by its
 * destroy_* function; the host destroys a device's executables before the
 * device. A device and its executables are used by one host thread at a
 * time.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ACCEL_RUNTIME_HAL_ACCEL_DRIVER_H
#define ACCEL_RUNTIME_HAL_ACCEL_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on every incompatible change of the structures below. */
#define ACCEL_DRIVER_ABI_VERSION 1u

typedef struct accel_error {
  char message[1024];
} accel_error;

/* Collectives: the host's backend (threads, MPI), offered to every driver
 * (one whose buffers are not host memory stages its values through host
 * memory). The f32 buffers follow
 * runtime/collectives/Communicator.h: a reduction's `count` values are read
 * from `input` and written to `output`; a reduce-scatter's output and an
 * all-gather's input are this rank's shard, ceil(count / size) values. */
typedef struct accel_collective_buffer {
  const float *input;
  float *output;
  int64_t count;
} accel_collective_buffer;

enum { ACCEL_REDUCE_SUM = 0, ACCEL_REDUCE_MEAN = 1 };

typedef struct accel_collectives {
  void *context; /* passed back to every function */
  int32_t rank;
  int32_t size;
  int (*all_reduce)(void *context, const accel_collective_buffer *buffers,
                    size_t count, int32_t reduction, const char *what,
                    accel_error *error);
  int (*reduce_scatter)(void *context, const accel_collective_buffer *buffers,
                        size_t count, int32_t reduction, const char *what,
                        accel_error *error);
  int (*all_gather)(void *context, const accel_collective_buffer *buffers,
                    size_t count, const char *what, accel_error *error);
  /* This rank's step failed: the other ranks' collectives fail too. */
  void (*abort)(void *context, const char *reason);
} accel_collectives;

typedef struct accel_device_options {
  uint32_t struct_size; /* sizeof(accel_device_options) */
  int32_t threads;      /* host threads for the driver; 0: its default */
  /* This rank's collectives; NULL for a job of one rank. Outlives every
   * device created with it. */
  const accel_collectives *collectives;
} accel_device_options;

typedef struct accel_device accel_device;         /* the driver's */
typedef struct accel_executable accel_executable; /* the driver's */

typedef struct accel_driver {
  uint32_t abi_version; /* ACCEL_DRIVER_ABI_VERSION */
  uint32_t struct_size; /* sizeof(accel_driver) */
  const char *name;     /* NAME of libaccel_driver_NAME.so */
  const char *description;

  int (*create_device)(const accel_device_options *options,
                       accel_device **device, accel_error *error);
  void (*destroy_device)(accel_device *device);
  /* Valid until the device is destroyed ("cpu", "pocl:0", "cuda:0"). */
  const char *(*device_name)(accel_device *device);
  /* Memory the device has and has free, in bytes. */
  int (*device_memory)(accel_device *device, uint64_t *total_bytes,
                       uint64_t *free_bytes, accel_error *error);

  /* Loads a program file's training step (its first program) and
   * allocates every buffer once. Fails, naming them, when the program uses
   * kernels the driver lacks. */
  int (*load_program)(accel_device *device, const uint8_t *program_file,
                      size_t size, accel_executable **executable,
                      accel_error *error);
  void (*destroy_executable)(accel_executable *executable);

  /* Buffer `index` of the program as host memory the host may read and
   * write between runs, or NULL when the driver's memory is not
   * host-visible: then the host uses read_buffer and write_buffer. A
   * driver maps all of an executable's buffers or none. A pointer stays
   * valid until the next commit_state or destroy. */
  void *(*map_buffer)(accel_executable *executable, int32_t index);
  int (*read_buffer)(accel_executable *executable, int32_t index,
                     uint64_t offset, void *destination, uint64_t bytes,
                     accel_error *error);
  int (*write_buffer)(accel_executable *executable, int32_t index,
                      uint64_t offset, const void *source, uint64_t bytes,
                      accel_error *error);

  /* Runs the program once; the results' buffers hold its values. */
  int (*run)(accel_executable *executable, accel_error *error);
  /* Every state result becomes the new value of the state it replaces. */
  int (*commit_state)(accel_executable *executable, accel_error *error);

  /* With profiling on, run() adds each instruction's wall time; reading
   * copies `count` of them (the program's instruction count). */
  void (*set_profiling)(accel_executable *executable, int32_t on);
  int (*read_profile)(accel_executable *executable, double *seconds,
                      uint64_t count, accel_error *error);

  /* What the driver runs, for listings (accel-run --list-drivers): the
   * kernels (their names in runtime/executor/Program.h's kernelName) and
   * the element types of buffers ("f32", "i64", ...), each a
   * comma-separated list. */
  const char *kernels;
  const char *element_types;
} accel_driver;

/* The symbol every driver library exports: its table, built for
 * `host_abi_version` (the host's ACCEL_DRIVER_ABI_VERSION). A driver that
 * cannot serve that version still returns its table, whose abi_version
 * says which it implements. */
typedef const accel_driver *(*accel_driver_entry_fn)(uint32_t host_abi_version);
const accel_driver *accel_driver_entry(uint32_t host_abi_version);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACCEL_RUNTIME_HAL_ACCEL_DRIVER_H */
