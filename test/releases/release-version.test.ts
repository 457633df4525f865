import { describe, expect, test } from 'vitest';
import { compareVersions, shortVersion } from '../../src/modules/releases/release-version.ts';

const SHA1 = 'a86d127c4b2f23a0a862620280427dcc01c78676';
const SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('shortVersion', () => {
  // getsentry/sentry-release-parser tests, with Vigil's `+build` display (release-health.md §4.5)
  test.each([
    ['com.example.app@1.2.3+456', '1.2.3+456'],
    ['@foo.bar.baz--blah@1.2.3-dev+BUILD-code', '1.2.3-dev+BUILD-code'],
    ['@foo.bar.baz--blah@1.0a+build-code', '1.0a+build-code'],
    ['foo.bar.baz.App@1.0+20200101100', '1.0+20200101100'],
    ['org.example.FooApp@1.0rc1+1.2.3', '1.0rc1+1.2.3'],
    ['some-api@1.0alpha2', '1.0alpha2'],
    ['bla-internal@0.0.0.4bfe251b96', '0.0.0.4bfe251b96'],
    [SHA1, 'a86d127c4b2f'],
    [SHA256, 'e3b0c44298fc'],
    [`some-package@${SHA1}`, 'a86d127c4b2f'],
    ['package@085240e737828d8326719bf97730188e927e49ca', '085240e73782'],
    [`@foo.bar.baz--blah@1.0a+${SHA1}`, '1.0a+a86d127c4b2f'],
    ['foo@20210505090610352561', '202105050906'],
    ['hackweek@6f85d2f', '6f85d2f'],
    ['some-api@2020.05.26-01.38.42', '2020.05.26-01.38.42'],
    ['foo@', 'foo@'],
    ['  foo   ', 'foo'],
    ['1.0.0', '1.0.0'],
    ['', ''],
  ])('shows %j as %j', (version, expected) => {
    expect(shortVersion(version)).toBe(expected);
  });

  test('keeps a build code that only looks like a hash at another length', () => {
    expect(shortVersion('app@1.0+abcdef1')).toBe('1.0+abcdef1');
  });
});

describe('compareVersions', () => {
  // static/app/utils/versions/semverCompare.spec.tsx in getsentry/sentry
  test.each([
    ['1.0.0', '2.0.0'],
    ['2.0.0', '2.1.0'],
    ['2.1.0', '2.1.1'],
    ['1.0.0-alpha', '1.0.0'],
    ['1.0.0-alpha', '1.0.0-alpha.1'],
    ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
    ['1.0.0-alpha.beta', '1.0.0-beta'],
    ['1.0.0-beta', '1.0.0-beta.2'],
    ['1.0.0-beta.2', '1.0.0-beta.11'],
    ['1.0.0-beta.11', '1.0.0-rc.1'],
    ['1.0.0-rc.1', '1.0.0'],
    ['1.9.0', '1.10.0'],
    ['app@1.2.3', 'app@1.2.3.1'],
    ['app@1.0+9', 'app@1.0+10'],
    ['app@1.0', 'app@1.0+1'],
    ['zzz@1.0.0', 'aaa@2.0.0'],
    ['9007199254740993.0.0', '9007199254740994.0.0'],
    [SHA1, '0.0.1'],
    ['nightly', '0.0.1'],
    ['alpha-build', 'beta-build'],
  ])('orders %j before %j', (older, newer) => {
    expect(compareVersions(older, newer)).toBe(-1);
    expect(compareVersions(newer, older)).toBe(1);
  });

  test('finds the same release equal to itself', () => {
    expect(compareVersions('app@1.2.3+4', 'app@1.2.3+4')).toBe(0);
  });

  test('breaks ties between equal versions by the full name, so the order is total', () => {
    expect(compareVersions('a@1.0.0', 'b@1.0.0')).toBe(-1);
    expect(compareVersions('app@1.0', 'app@1.0.0')).toBe(-1);
  });

  test('sorts releases newest first', () => {
    const releases = ['app@1.10.0', 'app@1.2.0', 'nightly', 'app@1.10.0-rc.1', 'app@2.0.0'];
    expect(releases.toSorted((a, b) => compareVersions(b, a))).toEqual([
      'app@2.0.0',
      'app@1.10.0',
      'app@1.10.0-rc.1',
      'app@1.2.0',
      'nightly',
    ]);
  });
});
