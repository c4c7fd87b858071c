//===- FashionMnist.cpp - the Fashion-MNIST dataset -----------------------===//

#include "runtime/io/FashionMnist.h"

#include "runtime/io/Idx.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

namespace accel::io {

llvm::Expected<ImageDataset> loadFashionMnist(llvm::StringRef directory,
                                              Split split) {
  llvm::StringRef prefix = split == Split::Train ? "train" : "t10k";
  llvm::SmallString<256> imagesPath(directory), labelsPath(directory);
  llvm::sys::path::append(imagesPath, prefix + "-images-idx3-ubyte.gz");
  llvm::sys::path::append(labelsPath, prefix + "-labels-idx1-ubyte.gz");
  llvm::Expected<IdxBytes> images = readIdxBytes(imagesPath);
  if (!images)
    return images.takeError();
  llvm::Expected<IdxBytes> labels = readIdxBytes(labelsPath);
  if (!labels)
    return labels.takeError();
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   directory + ": " + why);
  };
  if (images->shape.size() != 3)
    return fail("images are not [count, height, width]");
  if (labels->shape.size() != 1 || labels->shape[0] != images->shape[0])
    return fail(llvm::Twine(images->shape[0]) + " images but " +
                llvm::Twine(labels->shape.empty() ? 0 : labels->shape[0]) +
                " labels");
  ImageDataset data;
  data.count = images->shape[0];
  data.height = images->shape[1];
  data.width = images->shape[2];
  data.images.resize(images->data.size());
  for (size_t i = 0; i < images->data.size(); ++i)
    data.images[i] = static_cast<float>(images->data[i]) / 255.0f;
  data.labels.reserve(labels->data.size());
  for (size_t i = 0; i < labels->data.size(); ++i) {
    if (labels->data[i] > 9)
      return fail("label " + llvm::Twine(unsigned(labels->data[i])) +
                  " of sample " + llvm::Twine(i) + " is not a class 0-9");
    data.labels.push_back(labels->data[i]);
  }
  return data;
}

} // namespace accel::io
