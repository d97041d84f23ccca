// The Jest example on its own: `jest --config examples/testing/jest/jest.config.js`.
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/*.test.js'],
};
